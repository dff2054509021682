/**
 * Changing one located message: its flags, its folder, or deleting it. Each checks first
 * that it can do exactly what was asked, and only that: a destination that does not exist, or
 * a server that could only expunge the whole folder, fails before anything is changed.
 */
import type { ImapFlow } from 'imapflow';

import { errorText, InputError, ServerError } from '../errors';
import type { InboxClient } from './inbox';
import type { LocatedMessage } from './locate';
import { flagsOf } from './messages';

/** The flag changes there are, and the IMAP flag each sets or clears. */
const FLAG_CHANGES = {
	markRead: { flag: '\\Seen', add: true },
	markUnread: { flag: '\\Seen', add: false },
	flag: { flag: '\\Flagged', add: true },
	unflag: { flag: '\\Flagged', add: false },
} as const;

export type FlagChange = keyof typeof FLAG_CHANGES;

/** Where a message is after an action, for the output item. */
export interface MessageAfter {
	/** Null when the server did not say which UID a moved message got (no UIDPLUS). */
	uid: number | null;
	uidValidity: string | null;
	folder: string;
	messageId: string | null;
	flags: string[];
}

function refused(inbox: InboxClient, what: string, error?: unknown): ServerError {
	const cause = error === undefined ? 'the server refused it' : errorText(error);
	return new ServerError(
		`${inbox.address} could not ${what}: ${cause}. Run it again; if it keeps failing, check the folder in another mail client.`,
	);
}

async function currentFlags(client: ImapFlow, uid: number): Promise<string[]> {
	const message = await client.fetchOne(String(uid), { uid: true, flags: true }, { uid: true });
	return message ? flagsOf(message) : [];
}

/** Sets or clears \Seen or \Flagged on the message; returns it with its flags now. */
export async function changeFlags(
	inbox: InboxClient,
	located: LocatedMessage,
	change: FlagChange,
): Promise<MessageAfter> {
	const { flag, add } = FLAG_CHANGES[change];
	const { uid, selected } = located;
	const range = String(uid);
	const done = await (
		add
			? inbox.imap.messageFlagsAdd(range, [flag], { uid: true })
			: inbox.imap.messageFlagsRemove(range, [flag], { uid: true })
	).catch((error: unknown) => {
		throw refused(inbox, `change the flags of UID ${uid} in "${selected.path}"`, error);
	});
	if (!done) throw refused(inbox, `change the flags of UID ${uid} in "${selected.path}"`);
	return {
		uid,
		uidValidity: selected.uidValidity,
		folder: selected.path,
		messageId: located.messageId,
		flags: await currentFlags(inbox.imap, uid),
	};
}

/**
 * Moves the message to a folder of the inbox (named as the user named it).
 *
 * @throws ServerError (InputError when it is the folder it is in), before moving anything,
 * when the destination does not exist or the server could only move it by expunging the
 * whole folder.
 */
export async function moveMessage(
	inbox: InboxClient,
	located: LocatedMessage,
	destination: string,
): Promise<MessageAfter> {
	const target = await inbox.resolveFolder(destination);
	const { uid, selected } = located;
	if (target === selected.path) {
		throw new InputError(
			`The message is already in "${target}": nothing was moved. Choose another folder.`,
		);
	}
	// Without MOVE, imapflow copies and then expunges: safe only with UID EXPUNGE (UIDPLUS).
	if (!inbox.supports('MOVE') && !inbox.supports('UIDPLUS')) {
		throw new ServerError(
			`${inbox.address} supports neither MOVE nor UIDPLUS, so moving one message would also remove every other message marked deleted in "${selected.path}": nothing was moved.`,
		);
	}
	const flags = await currentFlags(inbox.imap, uid);
	const moved = await inbox.imap
		.messageMove(String(uid), target, { uid: true })
		.catch((error: unknown) => {
			throw refused(inbox, `move UID ${uid} from "${selected.path}" to "${target}"`, error);
		});
	if (!moved) throw refused(inbox, `move UID ${uid} from "${selected.path}" to "${target}"`);
	return {
		uid: moved.uidMap?.get(uid) ?? null,
		uidValidity: moved.uidValidity !== undefined ? String(moved.uidValidity) : null,
		folder: target,
		messageId: located.messageId,
		flags,
	};
}

/** The inbox's Trash folder (marked \Trash, else named Trash). */
export async function trashFolder(inbox: InboxClient): Promise<string> {
	return await inbox.specialFolder('\\Trash', 'Trash');
}

/**
 * Deletes the message for good: marks it \Deleted and expunges that UID only (UID EXPUNGE).
 *
 * @throws ServerError, before changing anything, when the server lacks UIDPLUS: a plain
 * EXPUNGE would also remove every other message marked deleted in the folder.
 */
export async function expungeMessage(inbox: InboxClient, located: LocatedMessage): Promise<void> {
	const { uid, selected } = located;
	if (!inbox.supports('UIDPLUS')) {
		throw new ServerError(
			`${inbox.address} does not support UID EXPUNGE (UIDPLUS): deleting permanently would also remove every other message marked deleted in "${selected.path}", so nothing was deleted. Turn off Delete Permanently to move it to Trash instead.`,
		);
	}
	const done = await inbox.imap
		.messageDelete(String(uid), { uid: true })
		.catch((error: unknown) => {
			throw refused(inbox, `delete UID ${uid} in "${selected.path}"`, error);
		});
	if (!done) throw refused(inbox, `delete UID ${uid} in "${selected.path}"`);
}
