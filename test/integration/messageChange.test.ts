/**
 * Mark as Read / Unread, Flag, Unflag, Move and Delete against the sandbox's Dovecot: exactly
 * the message asked for changes, and bad input changes nothing. Each test works in a folder
 * of its own (test/helpers/mailbox.ts).
 */
import { AgentMail } from '../../nodes/AgentMail/AgentMail.node';
import { mail, seedFolder } from '../helpers/mailbox';
import { runNode } from '../helpers/nodeHarness';
import { credentialData, listMessages } from '../helpers/sandbox';

const agent = 'agent@agentmail.test';
const node = new AgentMail();

const run = (
	operation: string,
	items: Array<Record<string, unknown>>,
	parameters: Record<string, unknown> = {},
	continueOnFail = false,
) =>
	runNode({
		node,
		credentials: credentialData(agent),
		parameters: { resource: 'message', operation, ...parameters },
		items: items.map((json) => ({ json: json as never })),
		continueOnFail,
	});

/** Flags of each message in the folder, by subject, without the session-only \Recent. */
async function flagsBySubject(folder: string): Promise<Record<string, string[]>> {
	return Object.fromEntries(
		(await listMessages(agent, folder)).map((m) => [
			m.subject ?? '',
			m.flags.filter((f) => f !== '\\Recent'),
		]),
	);
}

async function subjectsIn(folder: string): Promise<string[]> {
	return (await listMessages(agent, folder)).map((m) => m.subject ?? '');
}

/** A folder with messages "<tag> 1" .. "<tag> n"; returns the items Get Many would give. */
async function seed(tag: string, n: number, flags: string[][] = []) {
	const messages = Array.from({ length: n }, (_, k) =>
		mail(k, 'Jane <jane@customer.example>', `${tag} ${k + 1}`, `Body ${k + 1}`),
	);
	const seeded = await seedFolder(
		agent,
		tag,
		messages.map((m, k) => ({ raw: m.raw, flags: flags[k] ?? [] })),
	);
	const items = messages.map((m, k) => ({
		uid: seeded.uids[k],
		uidValidity: seeded.uidValidity,
		folder: seeded.folder,
		messageId: m.messageId,
	}));
	return { ...seeded, items, messages };
}

it('Mark as Read, Mark as Unread, Flag and Unflag change that flag of that message only', async () => {
	const { folder, items } = await seed('Flags', 3);
	const read = await run('markRead', [items[0], items[2]]);
	expect(read.output[0].map((o) => o.json.flags)).toEqual([['\\Seen'], ['\\Seen']]);
	expect(read.output[0].map((o) => o.pairedItem)).toEqual([{ item: 0 }, { item: 1 }]);
	expect(await flagsBySubject(folder)).toEqual({
		'Flags 1': ['\\Seen'],
		'Flags 2': [],
		'Flags 3': ['\\Seen'],
	});
	await run('flag', [items[1]]);
	await run('markUnread', [items[0]]);
	expect(await flagsBySubject(folder)).toEqual({
		'Flags 1': [],
		'Flags 2': ['\\Flagged'],
		'Flags 3': ['\\Seen'],
	});
	const unflagged = await run('unflag', [items[1]]);
	expect(unflagged.output[0][0].json).toEqual({
		uid: items[1].uid,
		uidValidity: items[1].uidValidity,
		folder,
		messageId: items[1].messageId,
		flags: [],
	});
	expect((await flagsBySubject(folder))['Flags 2']).toEqual([]);
});

it('Get Many → Mark as Read: each input item is marked, over one connection', async () => {
	const { folder } = await seed('Chain', 2);
	const listed = await run('getMany', [{}], { folder, format: 'headers' });
	await run(
		'markRead',
		listed.output[0].map((o) => o.json),
	);
	expect(await flagsBySubject(folder)).toEqual({ 'Chain 1': ['\\Seen'], 'Chain 2': ['\\Seen'] });
});

it('Move takes the message to the folder, with its new UID; the others stay', async () => {
	const { folder, items } = await seed('Move', 2);
	const { output } = await run('move', [items[0]], { destination: 'Spam' });
	const moved = output[0][0].json;
	expect(moved).toMatchObject({
		folder: 'Spam',
		messageId: items[0].messageId,
		previous: { uid: items[0].uid, uidValidity: items[0].uidValidity, folder },
	});
	expect(typeof moved.uid).toBe('number');
	expect(await subjectsIn(folder)).toEqual(['Move 2']);
	const inSpam = (await listMessages(agent, 'Spam')).find((m) => m.uid === moved.uid);
	expect(inSpam?.messageId).toBe(items[0].messageId);
});

it('Delete moves to Trash; in Trash already, it changes nothing and says how to delete for good', async () => {
	const { folder, items } = await seed('Delete', 2);
	const { output } = await run('delete', [items[0]]);
	const trashed = output[0][0].json;
	expect(trashed).toMatchObject({ deleted: true, permanent: false, folder: 'Trash' });
	expect(await subjectsIn(folder)).toEqual(['Delete 2']);
	const again = await run(
		'delete',
		[{ uid: trashed.uid, uidValidity: trashed.uidValidity, folder: 'Trash' }],
		{},
		true,
	);
	expect(again.output[0][0].json.error).toMatch(
		/The message is in Trash already: nothing was done\. Turn on Delete Permanently/,
	);
	expect((await listMessages(agent, 'Trash')).some((m) => m.uid === trashed.uid)).toBe(true);
});

it('Delete Permanently expunges that UID only, not the other messages marked deleted', async () => {
	// The 2nd message is already marked \Deleted (by another client, say): a plain EXPUNGE would take it too.
	const { folder, items } = await seed('Expunge', 3, [[], ['\\Deleted'], []]);
	const { output } = await run('delete', [items[0]], { permanent: true });
	expect(output[0][0].json).toEqual({
		deleted: true,
		permanent: true,
		uid: items[0].uid,
		uidValidity: items[0].uidValidity,
		folder,
		messageId: items[0].messageId,
	});
	expect(await subjectsIn(folder)).toEqual(['Expunge 2', 'Expunge 3']);
	expect((await flagsBySubject(folder))['Expunge 2']).toEqual(['\\Deleted']);
});

describe('bad input: a clear error, nothing changed', () => {
	it('a folder to move to that does not exist, or the folder it is in', async () => {
		const { folder, items } = await seed('MoveBad', 1);
		const missing = await run('move', [items[0]], { destination: 'spam' }, true);
		expect(missing.output[0][0].json.error).toMatch(
			/The folder "spam" does not exist in agent@agentmail\.test\. Did you mean "Spam"\?/,
		);
		const same = await run('move', [items[0]], { destination: folder }, true);
		expect(same.output[0][0].json.error).toMatch(/already in .*nothing was moved/);
		expect(await subjectsIn(folder)).toEqual(['MoveBad 1']);
	});

	it('a UID that does not exist changes no other message', async () => {
		const { folder, items } = await seed('NoUid', 2);
		for (const operation of ['markRead', 'flag', 'move', 'delete']) {
			await expect(
				run(operation, [{ uid: 999, folder }], { destination: 'Spam', permanent: true }),
			).rejects.toThrow(/There is no message with UID 999/);
		}
		expect(await flagsBySubject(folder)).toEqual({ 'NoUid 1': [], 'NoUid 2': [] });
		expect(items).toHaveLength(2);
	});

	it('a renumbered folder without a Message-ID: the UID is not used', async () => {
		const { folder, items } = await seed('Stale', 1);
		await expect(
			run('delete', [{ uid: items[0].uid, uidValidity: '1', folder }], { permanent: true }),
		).rejects.toThrow(/was renumbered since UID .* Nothing was done/);
		expect(await subjectsIn(folder)).toEqual(['Stale 1']);
	});
});
