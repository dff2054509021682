/**
 * Send once in the AgentMail node, against a sandbox of this file's own (real SMTP, real
 * Dovecot, faults injected): a node run again after some of its items went out sends only what
 * never left, and every message reaches the recipient once. In real n8n, with Retry On Fail
 * and an execution retried through n8n's API: test/e2e/sendOnce.e2e.test.ts.
 */
import { randomUUID } from 'node:crypto';

import { simpleParser } from 'mailparser';
import type { INodeExecutionData } from 'n8n-workflow';

import { AgentMail } from '../../nodes/AgentMail/AgentMail.node';
import { runNode } from '../helpers/nodeHarness';
import { credentialData, deliver, listMessages, useOwnSandbox } from '../helpers/sandbox';
import { message } from '../../tools/triggerHarness';

const agent = 'agent@agentmail.test';
const peer = 'peer@agentmail.test';
const node = new AgentMail();
const sandbox = useOwnSandbox();

afterEach(() => {
	delete sandbox().smtpFaults.dropDuringData;
});

async function subjectsIn(address: string, prefix: string): Promise<string[]> {
	return (await listMessages(address, 'INBOX'))
		.map((m) => m.subject ?? '')
		.filter((subject) => subject.startsWith(prefix));
}

/** Sends `keys.length` items with those send once keys (null: none), one per item. */
const sendKeyed = (
	tag: string,
	keys: Array<string | null>,
	extra: { continueOnFail?: boolean; workflowId?: string; credentials?: object } = {},
) =>
	runNode({
		node,
		credentials: { ...credentialData(agent), ...extra.credentials },
		parameters: (i) => ({
			resource: 'message',
			operation: 'send',
			to: peer,
			subject: `${tag} ${keys[i] ?? `#${i}`}`,
			text: 'x'.repeat(2000),
			options: keys[i] ? { sendOnceKey: keys[i] } : {},
		}),
		items: keys.map(() => ({ json: {} })),
		continueOnFail: extra.continueOnFail,
		workflowId: extra.workflowId,
	});

it('a node run again after its 3rd item broke sends only what never left: each once at the recipient', async () => {
	const tag = `retry-${randomUUID()}`;
	const keys = ['a', 'b', 'c', 'd', 'e'];
	// The connection breaks in the middle of the 3rd body; without Continue On Fail the node fails.
	sandbox().smtpFaults.dropDuringData = 3;
	await expect(sendKeyed(tag, keys)).rejects.toThrow(/broke while the message was being sent/);
	expect((await subjectsIn(peer, tag)).sort()).toEqual([`${tag} a`, `${tag} b`]);
	// What Retry On Fail and a retried execution do: the same node, the same items, again.
	const { output } = await sendKeyed(tag, keys);
	const results = output[0].map((o) => o.json);
	expect(results.map((r) => r.alreadySent === true)).toEqual([true, true, false, false, false]);
	expect(results.map((r) => r.sent)).toEqual([false, false, true, true, true]);
	expect(results[0].sentCopy).toMatchObject({ folder: 'Sent', subject: `${tag} a`, to: [peer] });
	expect(output[0].map((o) => o.pairedItem)).toEqual(keys.map((_, i) => ({ item: i })));
	expect((await subjectsIn(peer, tag)).sort()).toEqual(keys.map((k) => `${tag} ${k}`));
});

it('the same key twice in one execution goes out once; another workflow with the same key sends its own', async () => {
	const tag = `twice-${randomUUID()}`;
	const { output } = await sendKeyed(tag, ['k1', 'k2', 'k1', null]);
	const results = output[0].map((o) => o.json);
	expect(results.map((r) => r.sent)).toEqual([true, true, false, true]);
	expect(results[2]).toMatchObject({ alreadySent: true, sentByItem: 0 });
	expect(results[2].messageId).toBe(results[0].messageId);
	const other = await sendKeyed(tag, ['k1'], { workflowId: 'another-workflow' });
	expect(other.output[0][0].json.sent).toBe(true);
	expect((await subjectsIn(peer, tag)).sort()).toEqual(
		[`${tag} #3`, `${tag} k1`, `${tag} k1`, `${tag} k2`].sort(),
	);
});

it('Reply answers each received message once by default; with Send Once off it answers again', async () => {
	const { raw, messageId } = message(`Question ${randomUUID()}`);
	await deliver(agent, raw);
	const original: INodeExecutionData = {
		json: { messageId, subject: 'Question', from: { address: peer, name: 'Peer' } },
	};
	const reply = (options: Record<string, unknown> = {}) =>
		runNode({
			node,
			credentials: credentialData(agent),
			parameters: {
				resource: 'message',
				operation: 'reply',
				source: 'inputItem',
				text: 'The answer',
				options,
			},
			items: [original],
		});
	const first = (await reply()).output[0][0].json;
	const second = (await reply()).output[0][0].json;
	expect(first.sent).toBe(true);
	expect(second).toMatchObject({ sent: false, alreadySent: true, messageId: first.messageId });
	const third = (await reply({ sendOnce: false })).output[0][0].json;
	expect(third.sent).toBe(true);
	const answers: string[] = [];
	for (const m of await listMessages(peer, 'INBOX')) {
		const parsed = await simpleParser(m.source);
		if (parsed.inReplyTo === messageId) answers.push(parsed.subject ?? '');
	}
	expect(answers).toEqual(['Re: Question', 'Re: Question']);
});

it('when the Sent folder cannot be checked, keyed items fail and send nothing; the others go', async () => {
	const tag = `no-imap-${randomUUID()}`;
	// Nothing listens on port 1: the IMAP lookup fails at once.
	const { output } = await sendKeyed(tag, ['x', null], {
		continueOnFail: true,
		credentials: { imapPort: 1 },
	});
	const [keyed, plain] = output[0].map((o) => o.json);
	expect(keyed.sent).toBe(false);
	expect(keyed.error).toMatch(
		/Send Once could not look in the Sent folder.*refused the connection/,
	);
	expect(keyed.error).not.toContain(credentialData(agent).apiKey as string);
	expect(plain.sent).toBe(true);
	expect(await subjectsIn(peer, tag)).toEqual([`${tag} #1`]);
});

describe('Inbox Address: one credential, several inboxes', () => {
	const team = 'team@agentmail.test';

	it('items of one execution send from the inbox each names, one SMTP session per inbox', async () => {
		const tag = `inboxes-${randomUUID()}`;
		const since = sandbox().smtpEvents().length;
		const from = [team, '', team, agent];
		const { output } = await runNode({
			node,
			credentials: credentialData(agent),
			parameters: (i) => ({
				resource: 'message',
				operation: 'send',
				inbox: from[i],
				to: peer,
				subject: `${tag} #${i}`,
				text: 'x',
			}),
			items: from.map(() => ({ json: {} })),
		});
		expect(output[0].map((o) => o.json.sent)).toEqual([true, true, true, true]);
		const senders: Record<string, string[]> = {};
		for (const m of await listMessages(peer, 'INBOX')) {
			if (m.subject?.startsWith(tag)) senders[m.subject] = m.from;
		}
		expect(senders).toEqual({
			[`${tag} #0`]: [team],
			[`${tag} #1`]: [agent],
			[`${tag} #2`]: [team],
			[`${tag} #3`]: [agent],
		});
		// Sent copies land in each inbox's own Sent.
		expect((await subjectsInFolder(team, 'Sent', tag)).sort()).toEqual([`${tag} #0`, `${tag} #2`]);
		const sessions = new Set(
			sandbox()
				.smtpEvents()
				.slice(since)
				.filter((e) => e.event === 'connect')
				.map((e) => e.session),
		);
		expect(sessions.size).toBe(2);
	});

	it('an inbox the key may not open fails its item naming the inbox, never the key', async () => {
		const tag = `refused-${randomUUID()}`;
		const { output } = await runNode({
			node,
			credentials: credentialData(agent),
			parameters: (i) => ({
				resource: 'message',
				operation: 'send',
				inbox: i === 0 ? 'other@agentmail.test' : 'not an address',
				to: peer,
				subject: `${tag} #${i}`,
				text: 'x',
			}),
			items: [{ json: {} }, { json: {} }],
			continueOnFail: true,
		});
		const [refused, malformed] = output[0].map((o) => o.json);
		expect(refused.sent).toBe(false);
		expect(refused.error).toMatch(
			/refused the login for other@agentmail\.test: the credential's API key may not open this inbox/,
		);
		expect(refused.error).not.toContain(String(credentialData(agent).apiKey));
		expect(malformed.error).toMatch(/Inbox Address "not an address" is not an email address/);
		expect(await subjectsIn(peer, tag)).toEqual([]);
	});

	it('Send Once looks in the Sent folder of the inbox the item sends from', async () => {
		const tag = `once-team-${randomUUID()}`;
		const sendFromTeam = () =>
			runNode({
				node,
				credentials: credentialData(agent),
				parameters: {
					resource: 'message',
					operation: 'send',
					inbox: team,
					to: peer,
					subject: tag,
					text: 'x',
					options: { sendOnceKey: tag },
				},
				items: [{ json: {} }],
			});
		expect((await sendFromTeam()).output[0][0].json.sent).toBe(true);
		const again = (await sendFromTeam()).output[0][0].json;
		expect(again).toMatchObject({ alreadySent: true, sentCopy: { folder: 'Sent' } });
		expect(await subjectsIn(peer, tag)).toEqual([tag]);
	});
});

async function subjectsInFolder(address: string, folder: string, prefix: string) {
	return (await listMessages(address, folder))
		.map((m) => m.subject ?? '')
		.filter((subject) => subject.startsWith(prefix));
}
