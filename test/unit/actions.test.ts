/**
 * The safety checks of nodes/shared/imap/actions.ts on servers the sandbox's Dovecot is not:
 * without UIDPLUS nothing is expunged, and without MOVE or UIDPLUS nothing is moved, because
 * the only way left would expunge every message marked deleted in the folder.
 */
import { expungeMessage, moveMessage } from '../../nodes/shared/imap/actions';
import type { InboxClient } from '../../nodes/shared/imap/inbox';
import type { LocatedMessage } from '../../nodes/shared/imap/locate';

function fakeInbox(capabilities: string[]) {
	const calls: string[] = [];
	const record =
		(name: string, result: unknown) =>
		async (...args: unknown[]) => {
			calls.push(`${name} ${JSON.stringify(args)}`);
			return result;
		};
	const inbox = {
		address: 'agent@agentmail.to',
		supports: (capability: string) => capabilities.includes(capability),
		resolveFolder: async (name: string) => name,
		imap: {
			messageDelete: record('messageDelete', true),
			messageMove: record('messageMove', { uidMap: new Map([[7, 70]]), uidValidity: 5n }),
			messageFlagsAdd: record('messageFlagsAdd', true),
			fetchOne: async () => ({ uid: 7, flags: new Set(['\\Seen', '\\Recent']) }),
		},
	} as unknown as InboxClient;
	return { inbox, calls };
}

const located: LocatedMessage = {
	selected: { path: 'INBOX', uidValidity: '1', exists: 3, writable: true },
	uid: 7,
	messageId: '<a@b>',
	foundBy: 'uid',
};

it('Delete Permanently without UIDPLUS refuses, sending nothing that changes the folder', async () => {
	const { inbox, calls } = fakeInbox(['MOVE']);
	await expect(expungeMessage(inbox, located)).rejects.toThrow(
		/does not support UID EXPUNGE \(UIDPLUS\): deleting permanently would also remove every other message marked deleted in "INBOX", so nothing was deleted/,
	);
	expect(calls).toEqual([]);
});

it('Delete Permanently with UIDPLUS expunges by UID', async () => {
	const { inbox, calls } = fakeInbox(['UIDPLUS']);
	await expungeMessage(inbox, located);
	expect(calls).toEqual(['messageDelete ["7",{"uid":true}]']);
});

it('Move without MOVE and without UIDPLUS refuses; with either it moves by UID', async () => {
	const none = fakeInbox([]);
	await expect(moveMessage(none.inbox, located, 'Spam')).rejects.toThrow(
		/supports neither MOVE nor UIDPLUS.*nothing was moved/,
	);
	expect(none.calls).toEqual([]);
	const withMove = fakeInbox(['MOVE']);
	expect(await moveMessage(withMove.inbox, located, 'Spam')).toEqual({
		uid: 70,
		uidValidity: '5',
		folder: 'Spam',
		messageId: '<a@b>',
		flags: ['\\Seen'],
	});
	expect(withMove.calls).toEqual(['messageMove ["7","Spam",{"uid":true}]']);
});
