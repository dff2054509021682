/**
 * Finding the one message an item names: by UID in a folder (trusted only while the folder's
 * UIDVALIDITY is the one the UID was read with, and while the Message-ID, when known, still
 * matches), else by Message-ID. Never another message: when neither fits, it fails.
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
	const byId = await findByMessageId(inbox, selected, messageId!);
	if (byId === undefined) {
		throw new ServerError(
			`${why ? `${why} ` : ''}No message with Message-ID ${messageId} is in ${where}. Nothing was done: check the folder (a moved message is in another one) and the Message-ID.`,
		);
	}
	return { selected, uid: byId, messageId, foundBy: 'messageId' };
}

/** The newest message of the folder whose Message-ID is exactly `messageId`. */
async function findByMessageId(
	inbox: InboxClient,
	selected: SelectedFolder,
	messageId: string,
): Promise<number | undefined> {
	const uids = await inbox.imap.search({ header: { 'message-id': messageId } }, { uid: true });
	if (!Array.isArray(uids)) {
		throw new ServerError(
			`${inbox.address} refused to search "${selected.path}" for a Message-ID: look the message up by UID instead.`,
		);
	}
	if (!uids.length) return undefined;
	// SEARCH HEADER matches a substring: keep only the exact Message-ID.
	const fetched = await inbox.imap.fetchAll(
		uids.join(','),
		{ uid: true, envelope: true },
		{ uid: true },
	);
	const exact = fetched
		.filter((m) => messageIdOrNull(m.envelope?.messageId) === messageId)
		.map((m) => m.uid);
	return exact.length ? Math.max(...exact) : undefined;
}
