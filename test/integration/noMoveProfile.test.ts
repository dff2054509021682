/**
 * The `no-move` profile (tools/sandbox/profiles.ts): an IMAP server with UIDPLUS but without
 * MOVE. Moving a message is then COPY followed by UID EXPUNGE of that one message, so another
 * client's message marked deleted in the same folder stays; Delete to Trash and the trigger's
 * After the Run → Move to Folder go the same way.
 */
import { randomUUID } from 'node:crypto';

import { AgentMail } from '../../nodes/AgentMail/AgentMail.node';
import { mail } from '../helpers/mailbox';
import { runNode } from '../helpers/nodeHarness';
import {
	credentialData,
	deliver,
	imapClient,
	listMessages,
	useOwnSandbox,
} from '../helpers/sandbox';
import { activateTrigger, message } from '../../tools/triggerHarness';
import { waitFor } from '../../tools/wait';

const agent = 'agent@agentmail.test';
const node = new AgentMail();
useOwnSandbox('no-move');

const run = (operation: string, items: Array<Record<string, unknown>>, parameters = {}) =>
	runNode({
		node,
		credentials: credentialData(agent),
		parameters: { resource: 'message', operation, ...parameters },
		items: items.map((json) => ({ json: json as never })),
	});

const subjectsIn = async (folder: string) =>
	(await listMessages(agent, folder)).map((m) => m.subject ?? '');

/** A folder of its own with three messages; the second marked deleted by another client. */
async function seedThree(prefix: string) {
	const folder = `${prefix}-${randomUUID().slice(0, 8)}`;
	const client = await imapClient(agent);
	try {
		await client.mailboxCreate(folder);
		for (const k of [1, 2, 3]) {
			const raw = mail(k, 'Jane <jane@x.example>', `${prefix} ${k}`, 'x').raw;
			await client.append(folder, raw, k === 2 ? ['\\Deleted'] : []);
		}
		const box = await client.mailboxOpen(folder, { readOnly: true });
		const uids = (await client.fetchAll('1:*', { uid: true })).map((m) => m.uid);
		const items = uids.map((uid) => ({ uid, uidValidity: String(box.uidValidity), folder }));
		return { folder, items };
	} finally {
		await client.logout();
	}
}

it('announces UIDPLUS and not MOVE', async () => {
	const client = await imapClient(agent);
	try {
		expect(client.capabilities.has('UIDPLUS')).toBe(true);
		expect(client.capabilities.has('MOVE')).toBe(false);
	} finally {
		await client.logout();
	}
});

it('Move copies the message and expunges only it: another message marked deleted stays', async () => {
	const { folder, items } = await seedThree('Move');
	const moved = await run('move', [items[0]], { destination: 'Spam' });
	expect(moved.output[0][0].json).toMatchObject({ folder: 'Spam', uid: expect.any(Number) });
	expect(await subjectsIn(folder)).toEqual(['Move 2', 'Move 3']);
	expect(await subjectsIn('Spam')).toContain('Move 1');
});

it('Delete moves to Trash the same way, and Delete Permanently expunges only that message', async () => {
	const { folder, items } = await seedThree('Delete');
	await run('delete', [items[0]]);
	expect(await subjectsIn('Trash')).toContain('Delete 1');
	await run('delete', [items[2]], { permanent: true });
	expect(await subjectsIn(folder)).toEqual(['Delete 2']);
});

it('the trigger’s After the Run → Move to Folder moves the handled message, and only it', async () => {
	const client = await imapClient(agent);
	const kept = `Marked deleted ${randomUUID()}`;
	try {
		await client.append('INBOX', message(kept).raw, ['\\Deleted', '\\Seen']);
	} finally {
		await client.logout();
	}
	const trigger = await activateTrigger({
		credentials: credentialData(agent),
		parameters: { afterRun: 'move', moveTo: 'Trash' },
	});
	try {
		const subject = `Handled ${randomUUID()}`;
		await deliver(agent, message(subject).raw);
		await waitFor('the run', () => trigger.items().length === 1);
		await waitFor('the move', async () => (await subjectsIn('Trash')).includes(subject));
		const inbox = await subjectsIn('INBOX');
		expect(inbox).toContain(kept);
		expect(inbox).not.toContain(subject);
		expect(trigger.logs.filter((log) => log.level === 'warn')).toEqual([]);
	} finally {
		await trigger.close();
	}
});
