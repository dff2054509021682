/**
 * End to end, the AgentMail node's IMAP operations in a real n8n: AgentMail Trigger (After the
 * Run: do nothing) → Get (the trigger's item, full) → Get Many (its Message-ID, headers only)
 * → Move (the input item, to Spam) → Folder → Get Many. Checks that n8n resolves the
 * operations' parameters (two Inbox Address and several Folder parameters, each shown for
 * its own operations) and that the mail ends up where the workflow moved it. Then the
 * conversation operations: Trigger → Reply → Forward → Thread → Get; and the flag and delete
 * operations, each on the item the step before it gave.
 */
import { randomBytes } from 'node:crypto';

import type { N8nClient, WorkflowInput } from '../../tools/n8n/server';
import { deliver, imapClient, listMessages, useOwnSandbox } from '../helpers/sandbox';
import {
	activateAlone,
	AGENT,
	makeOwner,
	PEER,
	peerMailHeaders,
	setUpN8n,
	useOwnN8n,
	waitForOutcome,
} from './support';

/** One run of up to seven nodes takes seconds. */
const TEST_TIMEOUT_MS = 3 * 60_000;
const PACKAGE = 'n8n-nodes-agentmail-inbox';
/** Every workflow here starts with it, on INBOX, leaving the mail as it is after the run. */
const TRIGGER = 'AgentMail Trigger';

useOwnSandbox();

/**
 * AgentMail Trigger → one AgentMail node per step, in a line: each step's node name and
 * parameters.
 */
function chain(
	name: string,
	credential: { id: string; name: string },
	steps: Array<[string, Record<string, unknown>]>,
): WorkflowInput {
	const all: Array<[string, string, Record<string, unknown>]> = [
		[TRIGGER, 'agentMailTrigger', { folder: 'INBOX', afterRun: 'nothing' }],
		...steps.map(([node, parameters]): [string, string, Record<string, unknown>] => [
			node,
			'agentMail',
			parameters,
		]),
	];
	const nodes = all.map(([node, type, parameters], k) => ({
		id: `${randomBytes(4).toString('hex')}-0000-4000-8000-00000000000${k}`,
		name: node,
		type: `${PACKAGE}.${type}`,
		typeVersion: 1,
		position: [k * 250, 0] as [number, number],
		parameters,
		credentials: { agentMailInboxApi: credential },
	}));
	const connections = Object.fromEntries(
		all
			.slice(0, -1)
			.map(([node], k) => [node, { main: [[{ node: all[k + 1][0], type: 'main', index: 0 }]] }]),
	);
	return { name, nodes, connections };
}

/** Trigger → Get → Get Many → Move to Spam → Folder → Get Many. */
function workflow(credential: { id: string; name: string }): WorkflowInput {
	return chain('Inbox actions', credential, [
		['Get', { resource: 'message', operation: 'get', messageFrom: 'inputItem' }],
		[
			'Get Many',
			{
				resource: 'message',
				operation: 'getMany',
				folder: 'INBOX',
				format: 'headers',
				filters: { messageId: '={{ $json.messageId }}' },
			},
		],
		['Move', { resource: 'message', operation: 'move', destination: 'Spam' }],
		['Folders', { resource: 'folder', operation: 'getMany' }],
	]);
}

/** Trigger → Reply (the input item) → Forward (the trigger's message, as .eml) → Thread → Get. */
function conversationWorkflow(credential: { id: string; name: string }): WorkflowInput {
	const original = `={{ $('${TRIGGER}').item.json.messageId }}`;
	return chain('Conversation', credential, [
		['Reply', { resource: 'message', operation: 'reply', text: 'Thanks, on it.' }],
		[
			'Forward',
			{
				resource: 'message',
				operation: 'forward',
				messageFrom: 'messageId',
				folder: 'INBOX',
				messageId: original,
				to: PEER,
				forwardAs: 'attachment',
				text: 'For you.',
			},
		],
		[
			'Thread',
			{
				resource: 'thread',
				operation: 'get',
				messageFrom: 'messageId',
				messageId: original,
				format: 'headers',
			},
		],
	]);
}

/**
 * Trigger → Flag → Mark as Read → Mark as Unread → Unflag → Delete (to Trash) → Delete
 * Permanently: each step acts on the item the one before it gave (the message where it is now).
 */
function statesWorkflow(credential: { id: string; name: string }): WorkflowInput {
	return chain('Message states', credential, [
		['Flag', { resource: 'message', operation: 'flag' }],
		['Mark Read', { resource: 'message', operation: 'markRead' }],
		['Mark Unread', { resource: 'message', operation: 'markUnread' }],
		['Unflag', { resource: 'message', operation: 'unflag' }],
		['Delete', { resource: 'message', operation: 'delete' }],
		['Delete Permanently', { resource: 'message', operation: 'delete', permanent: true }],
	]);
}

/** Waits for the workflow's run to end without an error; returns its nodes' output items. */
async function finishedRun(client: N8nClient, id: string) {
	const run = await waitForOutcome('the run to finish', async () => {
		const [latest] = await client.executions(id);
		return latest?.finished || latest?.status === 'error' ? latest : undefined;
	});
	expect(run.data?.resultData.error).toBeUndefined();
	return (name: string) =>
		(run.data?.resultData.runData[name]?.[0]?.data?.main[0] ?? []).map(
			(item) => item.json as Record<string, unknown>,
		);
}

describe('the IMAP operations inside n8n', () => {
	const n8n = useOwnN8n('agentmail-n8n-actions-');
	let credential: { id: string; name: string } | undefined;
	/** The owner and the credential, made once for the n8n of this file. */
	const ready = async () => (credential ??= await setUpN8n(n8n(), makeOwner(), AGENT));

	it(
		'Trigger → Get → Get Many → Move to Spam → Folder list: each step sees the message, which ends in Spam',
		async () => {
			const client = n8n();
			const id = await activateAlone(client, undefined, workflow(await ready()), TRIGGER);
			const messageId = `<e2e.${randomBytes(8).toString('hex')}@agentmail.test>`;
			const headers = peerMailHeaders('Please file me', messageId);
			await deliver(
				AGENT,
				[...headers, 'Content-Type: text/plain', '', 'File me.', ''].join('\r\n'),
			);
			const output = await finishedRun(client, id);
			expect(output('Get')).toEqual([
				expect.objectContaining({ messageId, folder: 'INBOX', text: 'File me.\n' }),
			]);
			expect(output('Get')[0].uidValidity).toEqual(expect.any(String));
			expect(output('Get Many')).toEqual([
				expect.objectContaining({ messageId, subject: 'Please file me' }),
			]);
			expect(output('Move')).toEqual([
				expect.objectContaining({
					messageId,
					folder: 'Spam',
					previous: expect.objectContaining({ folder: 'INBOX' }),
				}),
			]);
			expect(output('Folders').find((f) => f.path === 'Spam')).toMatchObject({ total: 1 });
			expect((await listMessages(AGENT, 'Spam')).map((m) => m.messageId)).toEqual([messageId]);
			expect((await listMessages(AGENT, 'INBOX')).map((m) => m.messageId)).not.toContain(messageId);
			// Its trigger would move the next test's mail to Spam.
			await client.deactivateWorkflow(id);
		},
		TEST_TIMEOUT_MS,
	);

	it(
		'Trigger → Reply → Forward → Thread → Get: the forward goes out as .eml, the thread is the mail and the reply',
		async () => {
			const client = n8n();
			const id = await activateAlone(
				client,
				undefined,
				conversationWorkflow(await ready()),
				TRIGGER,
			);
			const messageId = `<e2e.${randomBytes(8).toString('hex')}@agentmail.test>`;
			await deliver(
				AGENT,
				[...peerMailHeaders('Question', messageId), 'Content-Type: text/plain', '', 'Hi?', ''].join(
					'\r\n',
				),
			);
			const output = await finishedRun(client, id);
			const [reply] = output('Reply');
			expect(output('Forward')).toEqual([
				expect.objectContaining({
					sent: true,
					subject: 'Fwd: Question',
					forwardAs: 'attachment',
					forwarded: expect.objectContaining({ messageId, folder: 'INBOX' }),
				}),
			]);
			const [thread] = output('Thread');
			expect(thread).toMatchObject({ messageId, count: 2, truncated: false });
			expect(
				(thread.messages as Array<Record<string, unknown>>).map((m) => [m.messageId, m.folder]),
			).toEqual([
				[messageId, 'INBOX'],
				[reply.messageId, 'Sent'],
			]);
			const atPeer = (await listMessages(PEER, 'INBOX')).map((m) => m.subject);
			expect(atPeer).toEqual(expect.arrayContaining(['Re: Question', 'Fwd: Question']));
			// Its trigger would answer and forward the next test's mail.
			await client.deactivateWorkflow(id);
		},
		TEST_TIMEOUT_MS,
	);

	it(
		'Trigger → Flag → Mark Read → Mark Unread → Unflag → Delete → Delete Permanently: each step’s flags and place, then gone',
		async () => {
			const client = n8n();
			const id = await activateAlone(client, undefined, statesWorkflow(await ready()), TRIGGER);
			const messageId = `<e2e.${randomBytes(8).toString('hex')}@agentmail.test>`;
			const kept = `<e2e.${randomBytes(8).toString('hex')}@agentmail.test>`;
			// Already in Trash before the run: Delete Permanently must leave it there.
			const imap = await imapClient(AGENT);
			try {
				const raw = [...peerMailHeaders('Old', kept), 'Content-Type: text/plain', '', 'Keep.', ''];
				await imap.append('Trash', raw.join('\r\n'));
			} finally {
				await imap.logout();
			}
			await deliver(
				AGENT,
				[
					...peerMailHeaders('Handle me', messageId),
					'Content-Type: text/plain',
					'',
					'Hi.',
					'',
				].join('\r\n'),
			);
			const output = await finishedRun(client, id);
			const state = (name: string) =>
				output(name).map((item) => ({
					messageId: item.messageId,
					folder: item.folder,
					flags: [...((item.flags as string[]) ?? [])].sort(),
				}));
			const inInbox = (flags: string[]) => [{ messageId, folder: 'INBOX', flags }];
			expect(state('Flag')).toEqual(inInbox(['\\Flagged']));
			expect(state('Mark Read')).toEqual(inInbox(['\\Flagged', '\\Seen']));
			expect(state('Mark Unread')).toEqual(inInbox(['\\Flagged']));
			expect(state('Unflag')).toEqual(inInbox([]));
			expect(output('Delete')).toEqual([
				expect.objectContaining({
					messageId,
					folder: 'Trash',
					deleted: true,
					permanent: false,
					previous: expect.objectContaining({ folder: 'INBOX' }),
				}),
			]);
			expect(output('Delete Permanently')).toEqual([
				expect.objectContaining({ messageId, folder: 'Trash', deleted: true, permanent: true }),
			]);
			expect((await listMessages(AGENT, 'Trash')).map((m) => m.messageId)).toEqual([kept]);
			expect((await listMessages(AGENT, 'INBOX')).map((m) => m.messageId)).not.toContain(messageId);
			await client.deactivateWorkflow(id);
		},
		TEST_TIMEOUT_MS,
	);
});
