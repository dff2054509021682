/**
 * Finding the one message an item names: by UID in a folder (trusted only while the folder's
 * UIDVALIDITY is the one the UID was read with, and while the Message-ID, when known, still
 * matches), else by Message-ID. Never another message: when neither fits, it fails.
 *
 * A server that refuses the Message-ID search, or ignores its key and answers with the whole
 * folder, is read instead: the Message-IDs of the folder's newest {@link RECENT_LOCATE_SCANNED}
 * messages, matched exactly here; an older message is not found, and the error says so.
 */
import { firstMessageId } from '../mime/headers';
import { InputError, ServerError } from '../errors';
import type { InboxClient, SelectedFolder } from './inbox';

/** What an item says about the message it means. */
export interface MessageTarget {
	folder: string;
	/** As the item or parameter gave it; checked to be a UID here. */
	uid?: number | string;
	/** The folder's UIDVALIDITY when the UID was read; another one now means renumbered. */
	uidValidity?: string;
	messageId?: string;
}

/** The message found, in its selected folder. */
export interface LocatedMessage {
	selected: SelectedFolder;
	uid: number;
	messageId: string | null;
	/** How it was found: 'messageId' when the UID no longer named it. */
	foundBy: 'uid' | 'messageId';
}

/** A Message-ID with its angle brackets, as headers carry it; null when there is none. */
export function messageIdOrNull(value: unknown): string | null {
	const raw = value === undefined || value === null ? '' : String(value).trim();
	if (!raw) return null;
	return firstMessageId(raw) ?? raw;
}

function checkUid(uid: unknown): number {
	const n = Number(uid);
	if (!Number.isInteger(n) || n < 1) {
		throw new InputError(
			`UID "${String(uid)}" is not a message UID: enter the whole number from a message's "uid" field.`,
		);
	}
	return n;
}

/**
 * Selects the target's folder (for writing when `write`) and finds the message.
 *
 * @throws InputError for a target that names no message; ServerError saying what was not
 * found and what to give instead.
 */
export async function locateMessage(
	inbox: InboxClient,
	target: MessageTarget,
	write = false,
	/** {@link RECENT_LOCATE_SCANNED} but for tests. */
	scanLimit = RECENT_LOCATE_SCANNED,
): Promise<LocatedMessage> {
	const uid = target.uid === undefined ? undefined : checkUid(target.uid);
	const messageId = messageIdOrNull(target.messageId);
	if (uid === undefined && !messageId) {
		throw new InputError('No message given: enter its UID and folder, or its Message-ID.');
	}
	const selected = await inbox.select(target.folder, write);
	const where = `"${selected.path}" of ${inbox.address}`;
	let why = '';
	if (uid !== undefined) {
		const renumbered = Boolean(target.uidValidity) && target.uidValidity !== selected.uidValidity;
		if (renumbered) {
			why = `The folder ${where} was renumbered since UID ${uid} was read (UIDVALIDITY ${target.uidValidity}, now ${selected.uidValidity}), so the UID may name another message now.`;
		} else {
			const found = await inbox.imap.fetchOne(
				String(uid),
				{ uid: true, envelope: true },
				{ uid: true },
			);
			const foundId = found ? messageIdOrNull(found.envelope?.messageId) : null;
			if (found && (!messageId || foundId === messageId)) {
				return { selected, uid, messageId: foundId, foundBy: 'uid' };
			}
			why = found
				? `UID ${uid} in ${where} is another message now (Message-ID ${foundId ?? 'none'}, not ${messageId}).`
				: `There is no message with UID ${uid} in ${where}: it was moved or deleted, or the UID or folder is wrong.`;
		}
		if (!messageId) {
			throw new ServerError(
				`${why} Nothing was done: give the message's Message-ID as well, or read its UID again (Message → Get Many).`,
			);
		}
	}
	const byId = await findByMessageId(inbox, selected, messageId!, scanLimit);
	if (typeof byId === 'object') {
		throw new ServerError(
			`${why ? `${why} ` : ''}No message with Message-ID ${messageId} is among the newest ${scanLimit} of ${where}; this server does not search by Message-ID, so the ${byId.unchecked} older ones were not read. Nothing was done: give the message's UID and folder instead.`,
		);
	}
	if (byId === undefined) {
		throw new ServerError(
			`${why ? `${why} ` : ''}No message with Message-ID ${messageId} is in ${where}. Nothing was done: check the folder (a moved message is in another one) and the Message-ID.`,
		);
	}
	return { selected, uid: byId, messageId, foundBy: 'messageId' };
}

/**
 * Hits past which a Message-ID search is taken as ignored by the server (it answered with the
 * folder, not the matches): a message is in a folder once, or a few times when copied there.
 */
const MAX_MESSAGE_ID_HITS = 4;
/**
 * Messages of the folder whose Message-IDs are read when the server does not search them
 * (about 300 kB of envelopes): the message an item names is almost always recent mail.
 */
const RECENT_LOCATE_SCANNED = 1_000;

/** What the server's search for a Message-ID could not settle. */
interface Unsearched {
	/** Messages of the folder older than those read. */
	unchecked: number;
}

/**
 * The newest message of the folder whose Message-ID is exactly `messageId`; `{ unchecked }`
 * when the server could not search and the message is not among the newest it read.
 */
async function findByMessageId(
	inbox: InboxClient,
	selected: SelectedFolder,
	messageId: string,
	scanLimit: number,
): Promise<number | Unsearched | undefined> {
	const uids = await inbox.imap.search({ header: { 'message-id': messageId } }, { uid: true });
	// Refused (false), or the whole folder returned: read the newest messages instead.
	const searched = Array.isArray(uids) && uids.length <= MAX_MESSAGE_ID_HITS;
	if (searched && !uids.length) return undefined;
	const exists = inbox.imap.mailbox ? inbox.imap.mailbox.exists : selected.exists;
	if (!searched && exists === 0) return undefined;
	const first = Math.max(1, exists - scanLimit + 1);
	// SEARCH HEADER matches a substring: keep only the exact Message-ID.
	const fetched = searched
		? await inbox.imap.fetchAll(uids.join(','), { uid: true, envelope: true }, { uid: true })
		: await inbox.imap.fetchAll(`${first}:*`, { uid: true, envelope: true });
	const exact = fetched
		.filter((m) => messageIdOrNull(m.envelope?.messageId) === messageId)
		.map((m) => m.uid);
	if (exact.length) return Math.max(...exact);
	return searched || first === 1 ? undefined : { unchecked: first - 1 };
}
