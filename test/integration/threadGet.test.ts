/**
 * Thread → Get against the sandbox: a conversation between a sender and the inbox (mail
 * delivered over LMTP, the inbox's reply sent over SMTP by the node, so it is in Sent), found
 * from any of its messages by HEADER searches repeated to a fixed point, oldest first, once.
 */
import { randomUUID } from 'node:crypto';

import { AgentMail } from '../../nodes/AgentMail/AgentMail.node';
import { mail } from '../helpers/mailbox';
import { operationRunner, runNode } from '../helpers/nodeHarness';
import { credentialData, deliver, imapClient } from '../helpers/sandbox';

const agent = 'agent@agentmail.test';
const peer = 'peer@agentmail.test';
const node = new AgentMail();

const getThread = operationRunner(node, () => credentialData(agent), {
	resource: 'thread',
	operation: 'get',
});

/** A message from the peer to the inbox, `minutes` from now, answering `parents` (oldest first). */
function fromPeer(
	id: string,
	subject: string,
	minutes: number,
	parents: string[] = [],
	references = parents,
) {
	return [
		`From: Peer <${peer}>`,
		`To: Agent <${agent}>`,
		`Subject: ${subject}`,
		`Message-ID: ${id}`,
		`Date: ${new Date(Date.now() + minutes * 60_000).toUTCString()}`,
		...(parents.length ? [`In-Reply-To: ${parents[parents.length - 1]}`] : []),
		...(references.length ? [`References: ${references.join(' ')}`] : []),
		'MIME-Version: 1.0',
		'Content-Type: text/plain; charset=utf-8',
		'',
		`Text of ${subject}.`,
		'',
	].join('\r\n');
}

/**
 * A: the peer writes; R: the inbox replies (Message → Reply, so it lands in Sent); B: the peer
 * answers R; C: the peer answers B with a client that keeps only B in References, so only a
 * second round of searching finds it from A. Plus an unrelated message.
 */
async function conversation() {
	const tag = randomUUID().slice(0, 8);
	const id = (name: string) => `<${name}.${tag}@outside.example>`;
	const a = id('a');
	await deliver(agent, fromPeer(a, `Order ${tag}`, -3));
	await deliver(agent, fromPeer(id('other'), `Unrelated ${tag}`, -2));
	const replied = await runNode({
		node,
		credentials: credentialData(agent),
		parameters: { resource: 'message', operation: 'reply', text: 'We are on it.' },
		items: [
			{ json: { messageId: a, from: { address: peer, name: 'Peer' }, subject: `Order ${tag}` } },
		],
	});
	const r = String(replied.output[0][0].json.messageId);
	const b = id('b');
	await deliver(agent, fromPeer(b, `Re: Order ${tag}`, 1, [a, r]));
	const c = id('c');
	await deliver(agent, fromPeer(c, `Re: Order ${tag}`, 2, [b], [b]));
	return { tag, a, r, b, c };
}

it('from the newest message, one item: the whole conversation oldest first across INBOX and Sent', async () => {
	const t = await conversation();
	const { output } = await getThread({ format: 'headers' }, [
		{ messageId: t.c, inReplyTo: t.b, references: [t.b] },
	]);
	expect(output[0]).toHaveLength(1);
	const thread = output[0][0].json;
	expect(thread).toMatchObject({
		messageId: t.c,
		count: 4,
		truncated: false,
		folders: ['INBOX', 'Sent'],
	});
	const messages = thread.messages as Array<Record<string, unknown>>;
	expect(messages.map((m) => [m.messageId, m.folder])).toEqual([
		[t.a, 'INBOX'],
		[t.r, 'Sent'],
		[t.b, 'INBOX'],
		[t.c, 'INBOX'],
	]);
	expect(thread.subject).toBe(`Order ${t.tag}`);
	expect(output[0][0].pairedItem).toEqual({ item: 0 });
});

it('from the first message by Message-ID, one item per message, in full; a copy in two folders once', async () => {
	const t = await conversation();
	const client = await imapClient(agent);
	try {
		// The same message in Sent too (as when the inbox copies itself): it counts once.
		const copy = fromPeer(t.b, `Re: Order ${t.tag}`, 1, [t.a, t.r]);
		await client.append('Sent', copy);
	} finally {
		await client.logout();
	}
	const { output } = await getThread({
		messageFrom: 'messageId',
		messageId: t.a,
		threadOutput: 'messages',
	});
	expect(output[0].map((o) => [o.json.messageId, o.json.folder])).toEqual([
		[t.a, 'INBOX'],
		[t.r, 'Sent'],
		[t.b, 'INBOX'],
		[t.c, 'INBOX'],
	]);
	expect(output[0][1].json.text).toMatch(/^We are on it\./);
	expect(output[0].map((o) => o.pairedItem)).toEqual([0, 0, 0, 0].map((item) => ({ item })));
});

it('Max Messages keeps the newest, oldest first, and says the conversation was truncated', async () => {
	const t = await conversation();
	const { output } = await getThread({
		messageFrom: 'messageId',
		messageId: t.b,
		maxMessages: 2,
		format: 'headers',
	});
	const thread = output[0][0].json;
	expect(thread).toMatchObject({ count: 2, truncated: true });
	expect((thread.messages as Array<Record<string, unknown>>).map((m) => m.messageId)).toEqual([
		t.b,
		t.c,
	]);
});

it('a conversation not in the folders, and an item without a Message-ID: clear errors, pairedItem kept', async () => {
	const t = await conversation();
	const { output } = await getThread(
		{ format: 'headers' },
		[{ messageId: `<nowhere.${t.tag}@outside.example>` }, { subject: 'no id' }, { messageId: t.a }],
		true,
	);
	expect(output[0].map((o) => o.pairedItem)).toEqual([0, 1, 2].map((item) => ({ item })));
	expect(output[0][0].json.error).toMatch(
		/^No message of the conversation of <nowhere\..+> is in "INBOX" or "Sent" of agent@agentmail\.test/,
	);
	expect(output[0][1].json.error).toMatch(/The input item has no "messageId"/);
	expect(output[0][2].json.count).toBe(4);
});

it('one item: attachments of several messages keep apart (message0_attachment_0, message1_attachment_0)', async () => {
	const first = mail(1, `Peer <${peer}>`, `Files ${randomUUID()}`, 'First.', { attachment: true });
	const second = mail(2, `Peer <${peer}>`, 'Re: Files', 'Second.', {
		attachment: true,
		headers: [`In-Reply-To: ${first.messageId}`, `References: ${first.messageId}`],
	});
	await deliver(agent, first.raw);
	await deliver(agent, second.raw);
	const { output } = await getThread({
		messageFrom: 'messageId',
		messageId: second.messageId,
		readOptions: { downloadAttachments: true },
	});
	const messages = output[0][0].json.messages as Array<{
		attachments: Array<Record<string, unknown>>;
	}>;
	expect(messages.map((m) => m.attachments.map((a) => a.binaryProperty))).toEqual([
		['message0_attachment_0'],
		['message1_attachment_0'],
	]);
	expect(Object.keys(output[0][0].binary ?? {}).sort()).toEqual([
		'message0_attachment_0',
		'message1_attachment_0',
	]);
});
