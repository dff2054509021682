/**
 * The AgentMail node (Send, Reply) against the running sandbox: messages read back over IMAP,
 * refusals made before any SMTP connection, one connection per execution.
 */
import { randomUUID } from 'node:crypto';

import { simpleParser } from 'mailparser';
import type { INodeExecutionData } from 'n8n-workflow';

import { AgentMail } from '../../nodes/AgentMail/AgentMail.node';
import { MAX_MESSAGE_BYTES } from '../../nodes/shared/smtp/limits';
import { binary, runNode } from '../helpers/nodeHarness';
import {
	deliver,
	listMessages,
	smtpEvents,
	useOwnSandbox,
	credentialData,
} from '../helpers/sandbox';

// Counts what the servers saw: a sandbox of its own, undisturbed by other test files.
useOwnSandbox();

const agent = 'agent@agentmail.test';
const peer = 'peer@agentmail.test';
const node = new AgentMail();

const credentials = (overrides: Record<string, string | number | boolean> = {}) =>
	credentialData(agent, overrides);

const send = (
	parameters: Record<string, unknown>,
	items: INodeExecutionData[] = [{ json: {} }],
	extra = {},
) =>
	runNode({
		node,
		credentials: credentials(),
		parameters: { resource: 'message', operation: 'send', ...parameters },
		items,
		...extra,
	});

/** SMTP sessions the sandbox saw from agent's login since `since` (an index into the event log). */
function connectionsSince(since: number): number {
	return new Set(
		smtpEvents()
			.slice(since)
			.filter((e) => e.event === 'connect')
			.map((e) => e.session),
	).size;
}

async function findBySubject(address: string, folder: string, subject: string) {
	return (await listMessages(address, folder)).filter((m) => m.subject === subject);
}

describe('AgentMail node: Send', () => {
	it('delivers a message with two attachments to the recipient and to Sent, byte for byte', async () => {
		const subject = `Two attachments ${randomUUID()}`;
		const pdf = Buffer.from(Array.from({ length: 70_000 }, (_, k) => (k * 7) % 256));
		const csv = Buffer.from('id,name\n1,Zoë\n2,Łukasz\n', 'utf8');
		const { output } = await send(
			{
				to: `Peer Inbox <${peer}>`,
				subject,
				emailFormat: 'both',
				text: 'Plain body ✓',
				html: '<p>HTML body ✓</p>',
				options: { attachments: 'report, table', senderName: 'Agent Smith' },
			},
			[
				{
					json: {},
					binary: {
						report: binary('report.pdf', 'application/pdf', pdf),
						table: binary('table.csv', 'text/csv', csv),
					},
				},
			],
		);
		const [item] = output[0];
		expect(item.pairedItem).toEqual({ item: 0 });
		expect(item.json).toMatchObject({ sent: true, accepted: [peer], rejected: [], subject });
		expect(item.json.response).toMatch(/^250 /);

		for (const [address, folder] of [
			[peer, 'INBOX'],
			[agent, 'Sent'],
		]) {
			const [stored] = await findBySubject(address, folder, subject);
			expect(stored).toBeDefined();
			const parsed = await simpleParser(stored.source);
			expect(parsed.subject).toBe(subject);
			expect(parsed.messageId).toBe(item.json.messageId);
			expect(parsed.from?.value).toEqual([{ address: agent, name: 'Agent Smith' }]);
			expect(parsed.text?.trim()).toBe('Plain body ✓');
			expect(parsed.html).toContain('<p>HTML body ✓</p>');
			const files = parsed.attachments.map((a) => [
				a.filename,
				a.contentType,
				a.content.toString('base64'),
			]);
			expect(files).toEqual([
				['report.pdf', 'application/pdf', pdf.toString('base64')],
				['table.csv', 'text/csv', csv.toString('base64')],
			]);
		}
	});

	it('reads the next item only once the previous message is past RCPT TO: reading it earlier held up the exchange', async () => {
		const tag = randomUUID();
		const since = smtpEvents().length;
		const count = 5;
		// For each item, how many recipients the server had accepted when the node first read
		// what it builds the message from (its options are read before anything is sent, for
		// Send Once's look in the Sent folder).
		const rcptsWhenRead = new Map<number, number>();
		const { output } = await runNode({
			node,
			credentials: credentials(),
			parameters: (i, name) => {
				if (name !== 'options' && !rcptsWhenRead.has(i)) {
					rcptsWhenRead.set(
						i,
						smtpEvents()
							.slice(since)
							.filter((e) => e.event === 'rcpt').length,
					);
				}
				return {
					resource: 'message',
					operation: 'send',
					to: peer,
					subject: `paced ${tag} #${i}`,
					text: `n ${i}`,
				};
			},
			items: Array.from({ length: count }, (_, k) => ({ json: { k } })),
		});
		expect(output[0].map((o) => o.json.sent)).toEqual(Array(count).fill(true));
		// Item i is read after message i - 1 (one recipient each) has passed RCPT TO.
		expect([...rcptsWhenRead.entries()].sort(([a], [b]) => a - b)).toEqual(
			Array.from({ length: count }, (_, i) => [i, i]),
		);
	});

	it('sends 100 items over one SMTP connection, each delivered once', async () => {
		const tag = randomUUID();
		const since = smtpEvents().length;
		const items = Array.from({ length: 100 }, (_, k) => ({ json: { k } }));
		const { output } = await runNode({
			node,
			credentials: credentials(),
			parameters: (i) => ({
				resource: 'message',
				operation: 'send',
				to: peer,
				subject: `bulk ${tag} #${i}`,
				text: `n ${i}`,
			}),
			items,
		});
		expect(output[0]).toHaveLength(100);
		expect(output[0].map((o) => o.pairedItem)).toEqual(items.map((_, i) => ({ item: i })));
		expect(connectionsSince(since)).toBe(1);
		const received = (await listMessages(peer, 'INBOX')).filter((m) =>
			m.subject?.startsWith(`bulk ${tag} #`),
		);
		expect(received.map((m) => m.subject).sort()).toEqual(
			items.map((_, i) => `bulk ${tag} #${i}`).sort(),
		);
	});

	describe('refusals made before connecting (the sandbox sees no SMTP connection)', () => {
		const many = (n: number, domain: string) =>
			Array.from({ length: n }, (_, k) => `r${k}@${domain}`).join(', ');
		const cases: Array<
			[string, Record<string, unknown>, INodeExecutionData[] | undefined, RegExp]
		> = [
			[
				'51 recipients',
				{
					to: many(30, 'to.example.com'),
					options: {
						cc: `${many(20, 'cc.example.com')}, r0@to.example.com`,
						bcc: 'x1@example.com',
					},
				},
				undefined,
				/The message has 51 recipients/,
			],
			[
				'a CRLF in the subject',
				{ to: peer, subject: 'Hello\r\nBcc: victim@example.com' },
				undefined,
				/Subject contains a line break/,
			],
			[
				'a foreign From',
				{
					to: peer,
					options: { customHeaders: { header: [{ name: 'From', value: 'ceo@example.com' }] } },
				},
				undefined,
				/From must be agent@agentmail\.test/,
			],
			[
				'a missing binary property',
				{ to: peer, options: { attachments: 'invoice' } },
				[{ json: {}, binary: { data: binary('a.txt', 'text/plain', Buffer.from('x')) } }],
				/no binary property "invoice" to attach\. It has: data\./,
			],
			[
				'a malformed address',
				{ to: 'peer@agentmail' },
				undefined,
				/To has "peer@agentmail", which is not a valid email address/,
			],
		];
		it.each(cases)('%s', async (_name, parameters, items, message) => {
			const since = smtpEvents().length;
			await expect(send(parameters, items)).rejects.toThrow(message);
			expect(connectionsSince(since)).toBe(0);
		});

		it('a message of 10 MB + 1 byte encoded; exactly 10 MB is accepted by the sandbox', async () => {
			const attachment = Buffer.alloc(7_600_000, 1);
			// Text made of 69-character lines (71 bytes each with CRLF) plus a short last line
			// stays 7bit, so every character added adds exactly one byte to the message.
			const block = 'a'.repeat(69) + '\n';
			const build = async (pad: number, validateOnly: boolean, subject: string) =>
				send(
					{
						to: peer,
						subject,
						text: block.repeat(Math.floor(pad / 71)) + 'a'.repeat(pad % 71),
						options: { attachments: 'blob', validateOnly },
					},
					[
						{
							json: {},
							binary: { blob: binary('blob.bin', 'application/octet-stream', attachment) },
						},
					],
				);
			const subject = `size ${randomUUID()}`;
			// Measured with one character: an empty text would leave the text part out altogether.
			const base = (await build(1, true, subject)).output[0][0].json.size as number;
			const pad = 1 + MAX_MESSAGE_BYTES - base;
			expect((await build(pad, true, subject)).output[0][0].json.size).toBe(MAX_MESSAGE_BYTES);

			const since = smtpEvents().length;
			await expect(build(pad + 1, false, subject)).rejects.toThrow(
				/The encoded message is 10\.0 MB \(10,485,761 bytes\); AgentMail accepts at most 10\.0 MB \(10,485,760 bytes\)/,
			);
			expect(connectionsSince(since)).toBe(0);

			const { output } = await build(pad, false, subject);
			expect(output[0][0].json).toMatchObject({
				sent: true,
				size: MAX_MESSAGE_BYTES,
				accepted: [peer],
			});
		});
	});

	it('Validate Only returns size and envelope and opens no connection', async () => {
		const since = smtpEvents().length;
		const { output } = await send({
			to: peer,
			subject: 'dry run',
			text: 'x',
			options: { validateOnly: true, bcc: 'b@example.com' },
		});
		expect(output[0][0].json).toMatchObject({
			validateOnly: true,
			sent: false,
			envelope: { from: agent, to: [peer, 'b@example.com'] },
		});
		expect(output[0][0].json.size).toBeGreaterThan(100);
		expect(connectionsSince(since)).toBe(0);
	});

	it('continue on fail: a bad item reports its error, the others are sent, pairing kept', async () => {
		const tag = randomUUID();
		const { output } = await runNode({
			node,
			credentials: credentials(),
			parameters: (i) => ({
				resource: 'message',
				operation: 'send',
				to: i === 1 ? 'broken' : peer,
				subject: `cof ${tag} ${i}`,
				text: 'x',
			}),
			items: [{ json: {} }, { json: {} }, { json: {} }],
			continueOnFail: true,
		});
		expect(output[0].map((o) => o.pairedItem)).toEqual([{ item: 0 }, { item: 1 }, { item: 2 }]);
		expect(output[0][0].json.sent).toBe(true);
		expect(output[0][1].json).toMatchObject({
			sent: false,
			error: expect.stringContaining('To has "broken"'),
		});
		expect(output[0][2].json.sent).toBe(true);
	});

	it('without continue on fail: items before a bad one are sent, nothing after it', async () => {
		const tag = randomUUID();
		const run = runNode({
			node,
			credentials: credentials(),
			parameters: (i) => ({
				resource: 'message',
				operation: 'send',
				to: i === 2 ? 'broken' : peer,
				subject: `stop ${tag} ${i}`,
				text: 'x',
			}),
			items: [{ json: {} }, { json: {} }, { json: {} }, { json: {} }],
		});
		await expect(run).rejects.toThrow('To has "broken"');
		// The next item is built while the previous one is on the wire; it must not go out.
		const delivered = await listMessages(peer, 'INBOX');
		const sent = delivered
			.map((m) => m.subject)
			.filter((subject) => subject?.startsWith(`stop ${tag}`));
		expect(sent.sort()).toEqual([`stop ${tag} 0`, `stop ${tag} 1`]);
	});

	it('a wrong key: the error says to check the API key and does not contain the key', async () => {
		const wrongKey = `am_${randomUUID().replace(/-/g, '')}`;
		const error = await runNode({
			node,
			credentials: credentials({ apiKey: wrongKey }),
			parameters: { resource: 'message', operation: 'send', to: peer, subject: 'x', text: 'x' },
			items: [{ json: {} }],
		}).catch((e: Error) => e);
		expect(error).toBeInstanceOf(Error);
		expect((error as Error).message).toMatch(
			/refused the login for agent@agentmail\.test: check the API key/,
		);
		expect(JSON.stringify(error, Object.getOwnPropertyNames(error))).not.toContain(wrongKey);
	});
});

describe('AgentMail node: Reply', () => {
	it('answers a delivered message in its thread, with one "Re: "', async () => {
		const originalId = `<${randomUUID()}@outside.example>`;
		const subject = `Re: Question ${randomUUID()}`;
		await deliver(
			agent,
			[
				'From: Peer Person <peer@agentmail.test>',
				'To: agent@agentmail.test',
				`Subject: ${subject}`,
				`Message-ID: ${originalId}`,
				'References: <root@outside.example>',
				'Date: Tue, 24 Nov 2026 10:00:00 +0000',
				'',
				'Can you help?',
				'',
			].join('\r\n'),
		);
		const [stored] = await findBySubject(agent, 'INBOX', subject);
		const original = await simpleParser(stored.source);
		// The item as the AgentMail Trigger emits it.
		const item = {
			messageId: original.messageId,
			subject: original.subject,
			from: original.from?.value[0],
			replyTo: [],
			to: original.to && !Array.isArray(original.to) ? original.to.value : [],
			cc: [],
			references: original.references,
			text: original.text,
			date: original.date?.toISOString(),
		};
		const { output } = await runNode({
			node,
			credentials: credentials(),
			parameters: {
				resource: 'message',
				operation: 'reply',
				text: 'Sure.',
				options: { quoteOriginal: true },
			},
			items: [{ json: item }],
		});
		expect(output[0][0].json).toMatchObject({
			sent: true,
			accepted: [peer],
			inReplyTo: originalId,
			references: ['<root@outside.example>', originalId],
			subject,
		});
		const [reply] = await findBySubject(peer, 'INBOX', subject);
		const parsed = await simpleParser(reply.source);
		expect(parsed.inReplyTo).toBe(originalId);
		expect(parsed.references).toEqual(['<root@outside.example>', originalId]);
		expect(parsed.subject).toBe(subject);
		expect(parsed.subject?.match(/Re: /g)).toHaveLength(1);
		expect(parsed.text).toContain('Sure.');
		expect(parsed.text).toContain('> Can you help?');
	});
});
