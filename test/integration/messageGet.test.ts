/**
 * Message → Get against the sandbox's Dovecot: the input item's message by default, or one by
 * UID or Message-ID; a UID whose folder was renumbered since is never trusted, so the message
 * returned is the one meant, or none with a clear error.
 */
import { AgentMail } from '../../nodes/AgentMail/AgentMail.node';
import { mail, recreateFolder, seedFolder } from '../helpers/mailbox';
import { runNode } from '../helpers/nodeHarness';
import { credentialData, imapClient } from '../helpers/sandbox';
import { activateTrigger } from '../../tools/triggerHarness';
import { waitFor } from '../../tools/wait';

const agent = 'agent@agentmail.test';
const node = new AgentMail();

const run = (
	parameters: Record<string, unknown>,
	items: Array<Record<string, unknown>> = [{}],
	continueOnFail = false,
) =>
	runNode({
		node,
		credentials: credentialData(agent),
		parameters: { resource: 'message', operation: 'get', ...parameters },
		items: items.map((json) => ({ json: json as never })),
		continueOnFail,
	});

const a = mail(1, 'Jane <jane@customer.example>', 'Message A', 'Text of A.');
const b = mail(2, 'Bob <bob@supplier.example>', 'Message B', 'Text of B.');

it('by default reads the message of the input item that Get Many gave, in full', async () => {
	const { folder, uids, uidValidity } = await seedFolder(agent, 'Get', [
		{ raw: a.raw },
		{ raw: b.raw },
	]);
	const listed = await runNode({
		node,
		credentials: credentialData(agent),
		parameters: { resource: 'message', operation: 'getMany', folder, format: 'headers' },
		items: [{ json: {} }],
	});
	const { output } = await runNode({
		node,
		credentials: credentialData(agent),
		parameters: { resource: 'message', operation: 'get' },
		items: listed.output[0].map((o) => ({ json: o.json })),
	});
	expect(output[0].map((o) => [o.json.uid, o.json.subject, o.json.text])).toEqual([
		[uids[1], 'Message B', 'Text of B.\n'],
		[uids[0], 'Message A', 'Text of A.\n'],
	]);
	expect(output[0][0].json).toMatchObject({ uidValidity, folder, messageId: b.messageId });
	expect(output[0].map((o) => o.pairedItem)).toEqual([{ item: 0 }, { item: 1 }]);
});

it('an item with uid, folder and messageId but no uidValidity is read; headers only when asked', async () => {
	const { folder, uids } = await seedFolder(agent, 'GetTrigger', [{ raw: a.raw }]);
	const { output } = await run({ format: 'headers' }, [
		{ uid: uids[0], folder, messageId: a.messageId },
	]);
	expect(output[0][0].json).toMatchObject({ uid: uids[0], subject: 'Message A' });
	expect(output[0][0].json.text).toBeUndefined();
});

it('by UID, and by Message-ID with or without angle brackets', async () => {
	const { folder, uids, uidValidity } = await seedFolder(agent, 'GetBy', [
		{ raw: a.raw },
		{ raw: b.raw },
	]);
	const byUid = await run({ messageFrom: 'uid', folder, uid: uids[0], uidValidity });
	expect(byUid.output[0][0].json.subject).toBe('Message A');
	const byId = await run({ messageFrom: 'messageId', folder, messageId: b.messageId.slice(1, -1) });
	expect(byId.output[0][0].json).toMatchObject({ uid: uids[1], subject: 'Message B' });
});

describe('a folder renumbered since the UID was read (UIDVALIDITY changed)', () => {
	/** A and B in a folder; then the folder is recreated with B first, so A's old UID is B's now. */
	async function renumbered() {
		const before = await seedFolder(agent, 'Renumbered', [{ raw: a.raw }]);
		await recreateFolder(agent, before.folder);
		const client = await imapClient(agent);
		try {
			await client.append(before.folder, b.raw);
			await client.append(before.folder, a.raw);
		} finally {
			await client.logout();
		}
		return before;
	}

	it('falls back to the Message-ID and returns the message meant, under its new UID', async () => {
		const before = await renumbered();
		const { output } = await run({}, [
			{
				uid: before.uids[0],
				uidValidity: before.uidValidity,
				folder: before.folder,
				messageId: a.messageId,
			},
		]);
		expect(output[0][0].json).toMatchObject({ subject: 'Message A', uid: 2 });
		expect(output[0][0].json.uidValidity).not.toBe(before.uidValidity);
	});

	it('without a Message-ID fails clearly instead of returning the message now at that UID', async () => {
		const before = await renumbered();
		await expect(
			run({
				messageFrom: 'uid',
				folder: before.folder,
				uid: before.uids[0],
				uidValidity: before.uidValidity,
			}),
		).rejects.toThrow(
			new RegExp(
				`The folder "${before.folder}" of agent@agentmail\\.test was renumbered since UID 1 was read \\(UIDVALIDITY ${before.uidValidity}, now \\d+\\).*Nothing was done: give the message's Message-ID`,
			),
		);
	});

	it('without a UIDVALIDITY, a Message-ID that no longer matches the UID is found by its Message-ID', async () => {
		const before = await renumbered();
		const { output } = await run({}, [{ uid: 1, folder: before.folder, messageId: a.messageId }]);
		expect(output[0][0].json).toMatchObject({ subject: 'Message A', uid: 2 });
	});
});

describe("the AgentMail Trigger's item after its folder was renumbered", () => {
	/** The trigger's item of the one message in `folder` (read at activation, nothing marked). */
	async function triggerItem(folder: string) {
		const trigger = await activateTrigger({
			credentials: credentialData(agent),
			parameters: { folder, startFrom: 'all', afterRun: 'nothing' },
		});
		try {
			await waitFor('the trigger item', () => trigger.items().length === 1);
		} finally {
			await trigger.close();
		}
		return trigger.items()[0].json;
	}

	it("carries the folder's uidValidity, so its UID never returns the message now at that UID", async () => {
		// No Message-ID: the UID and its UIDVALIDITY are all that name the message.
		const noId = a.raw.replace(/^Message-ID: .*\r\n/m, '');
		const { folder, uids, uidValidity } = await seedFolder(agent, 'MessageItem', [{ raw: noId }]);
		const item = await triggerItem(folder);
		expect(item).toMatchObject({ uid: uids[0], uidValidity, folder, messageId: null });

		// Recreated with B first: the trigger item's UID is B's now.
		await recreateFolder(agent, folder);
		const client = await imapClient(agent);
		try {
			await client.append(folder, b.raw);
		} finally {
			await client.logout();
		}
		const { output } = await run({}, [item], true);
		expect(output[0][0].json.subject).toBeUndefined();
		expect(String(output[0][0].json.error)).toMatch(
			new RegExp(
				`The folder "${folder}" of agent@agentmail\\.test was renumbered since UID ${uids[0]} was read \\(UIDVALIDITY ${uidValidity}, now \\d+\\)`,
			),
		);
	});

	it('with its Message-ID, the message is found under its new UID', async () => {
		const { folder, uidValidity } = await seedFolder(agent, 'TriggerItemId', [{ raw: a.raw }]);
		const item = await triggerItem(folder);
		expect(item).toMatchObject({ uidValidity, messageId: a.messageId });
		await recreateFolder(agent, folder);
		const client = await imapClient(agent);
		try {
			await client.append(folder, b.raw);
			await client.append(folder, a.raw);
		} finally {
			await client.logout();
		}
		const { output } = await run({}, [item]);
		expect(output[0][0].json).toMatchObject({ subject: 'Message A', uid: 2, folder });
		expect(output[0][0].json.uidValidity).not.toBe(uidValidity);
	});
});

describe('bad input: a clear error per item, pairedItem kept', () => {
	it('a UID that does not exist, a Message-ID that is not there, an item that names no message', async () => {
		const { folder, uids } = await seedFolder(agent, 'GetBad', [{ raw: a.raw }]);
		const { output } = await run(
			{},
			[
				{ uid: 999, folder },
				{ uid: uids[0], folder },
				{ messageId: '<nowhere@outside.example>', folder },
				{ subject: 'no uid here' },
				{ uid: 1, folder: 'NoSuchFolder' },
			],
			true,
		);
		const results = output[0].map((o) => o.json);
		expect(output[0].map((o) => o.pairedItem)).toEqual([0, 1, 2, 3, 4].map((item) => ({ item })));
		expect(results[0].error).toMatch(
			new RegExp(`There is no message with UID 999 in "${folder}" of agent@agentmail\\.test`),
		);
		expect(results[1].subject).toBe('Message A');
		expect(results[2].error).toMatch(/No message with Message-ID <nowhere@outside\.example> is in/);
		expect(results[3].error).toMatch(/The input item has no "uid" or "messageId"/);
		expect(results[4].error).toMatch(/The folder "NoSuchFolder" does not exist/);
	});

	it('a UID that is not a number', async () => {
		await expect(run({ messageFrom: 'uid', folder: 'INBOX', uid: 'abc' })).rejects.toThrow(
			/UID "abc" is not a message UID: enter the whole number/,
		);
	});
});
