/**
 * Every feature against the rewriting SMTP profiles (test/sandbox/profiles.ts): the SMTP side
 * gives each message a Message-ID of its own, drops X- headers, and puts the Sent copy in place
 * late (`rewriting-smtp`) or never (`rewriting-smtp-nosent`). IMAP is Dovecot as it is. What
 * each feature does there today: the same as on Dovecot, less (and how), or a clear refusal.
 * Where today's answer is wrong the test is a todo naming what it should do.
 */
import { randomUUID } from 'node:crypto';

import { simpleParser, type ParsedMail } from 'mailparser';

import { AgentMail } from '../../nodes/AgentMail/AgentMail.node';
import { mail, seedFolder } from '../helpers/mailbox';
import { runNode } from '../helpers/nodeHarness';
import {
	credentialData,
	deliver,
	listMessages,
	smtpTransport,
	useOwnSandbox,
} from '../helpers/sandbox';
import { activateTrigger, waitFor } from '../helpers/triggerHarness';
import { REWRITE_SENT_DELAY_MS, SANDBOX_PROFILES } from '../sandbox/profiles';
import { REWRITTEN_ID_DOMAIN, rewriteMessage } from '../sandbox/rewrite';

const agent = 'agent@agentmail.test';
const peer = 'peer@agentmail.test';
const node = new AgentMail();
/** Time for a late Sent copy to be stored once it is due. */
const SENT_SLACK_MS = 3_000;

const run = (operation: string, items: Array<Record<string, unknown>>, parameters = {}) =>
	runNode({
		node,
		credentials: credentialData(agent),
		parameters: { resource: 'message', operation, ...parameters },
		items: items.map((json) => ({ json: json as never })),
	});

/** The messages in a folder whose subject contains `tag`, parsed. */
async function parsed(address: string, folder: string, tag: string): Promise<ParsedMail[]> {
	const listed = (await listMessages(address, folder)).filter((m) => m.subject?.includes(tag));
	return await Promise.all(listed.map(async (m) => await simpleParser(m.source)));
}

const rewrittenId = expect.stringMatching(new RegExp(`^<[0-9a-f-]{36}@${REWRITTEN_ID_DOMAIN}>$`));

it('the rewrite: a Message-ID of the server, no X- header fields of the message; parts and body as they were', () => {
	const raw = Buffer.from(
		[
			'From: a@x.example',
			'X-Mailer: test',
			'Message-ID: <ours@x.example>',
			'X-Folded: one',
			'  two',
			'Subject: Hi',
			'Content-Type: multipart/mixed; boundary="b"',
			'',
			'--b',
			'X-Part: kept',
			'',
			'Grüße',
			'--b--',
			'',
		].join('\r\n'),
	);
	const out = rewriteMessage(raw, { newMessageId: true, dropXHeaders: true }).toString();
	const [head, body] = out.split('\r\n\r\n');
	expect(head.split('\r\n').slice(0, 3)).toEqual([
		'From: a@x.example',
		'Subject: Hi',
		'Content-Type: multipart/mixed; boundary="b"',
	]);
	expect(head).toMatch(new RegExp(`\\r\\nMessage-ID: <[0-9a-f-]{36}@${REWRITTEN_ID_DOMAIN}>$`));
	expect(body).toBe('--b\r\nX-Part: kept');
	expect(out.endsWith('Grüße\r\n--b--\r\n')).toBe(true);
	expect(rewriteMessage(raw, {}).equals(raw)).toBe(true);
});

describe.each(['rewriting-smtp', 'rewriting-smtp-nosent'] as const)('the %s profile', (profile) => {
	useOwnSandbox(profile);
	const late = SANDBOX_PROFILES[profile].smtpRewrite?.sentCopyAfterMs === REWRITE_SENT_DELAY_MS;
	/** Waits until the Sent copy is there (late) or surely never coming (nosent). */
	const settleSent = async () =>
		await new Promise((resolve) => setTimeout(resolve, REWRITE_SENT_DELAY_MS + SENT_SLACK_MS));

	it('delivers with the server Message-ID and no X- headers; the Sent copy comes late, or never', async () => {
		const tag = randomUUID();
		const transport = smtpTransport(agent);
		const ours = `<ours.${tag}@agentmail.test>`;
		await transport.sendMail({
			from: agent,
			to: peer,
			subject: `Probe ${tag}`,
			text: 'Hello',
			messageId: ours,
			headers: { 'X-Custom': 'gone' },
		});
		transport.close();
		const [delivered] = await parsed(peer, 'INBOX', tag);
		expect(delivered.messageId).toEqual(rewrittenId);
		expect(delivered.headers.has('x-custom')).toBe(false);
		expect(await parsed(agent, 'Sent', tag)).toEqual([]);
		if (late) {
			await waitFor(
				async () => (await parsed(agent, 'Sent', tag)).length === 1,
				'the late Sent copy',
				REWRITE_SENT_DELAY_MS + SENT_SLACK_MS,
			);
			const [copy] = await parsed(agent, 'Sent', tag);
			expect(copy.messageId).toBe(delivered.messageId);
			expect(copy.headers.has('x-custom')).toBe(false);
		} else {
			await settleSent();
			expect(await parsed(agent, 'Sent', tag)).toEqual([]);
		}
	}, 20_000);

	it('the trigger: mail sent through the SMTP side starts one run, with the Message-ID delivered', async () => {
		const trigger = await activateTrigger({ credentials: credentialData(agent) });
		try {
			const tag = randomUUID();
			const transport = smtpTransport(peer);
			await transport.sendMail({ from: peer, to: agent, subject: `Ping ${tag}`, text: 'x' });
			transport.close();
			await waitFor(() => trigger.items().length === 1, 'the run');
			const [delivered] = await parsed(agent, 'INBOX', tag);
			expect(trigger.items()[0].json.messageId).toBe(delivered.messageId);
		} finally {
			await trigger.close();
		}
	});

	it('IMAP operations work as on Dovecot: Get Many, Get, Mark, Flag, Move, Delete, Folder → Get Many', async () => {
		const a = mail(1, 'Jane <jane@customer.example>', 'Invoice A', 'Text of A.', {
			headers: ['X-Ticket: T-1'],
		});
		const b = mail(2, 'Bob <bob@supplier.example>', 'Lunch B', 'Text of B.');
		const { folder, uids, uidValidity } = await seedFolder(agent, 'Imap', [
			{ raw: a.raw },
			{ raw: b.raw },
		]);
		const many = await run('getMany', [{}], {
			folder,
			returnAll: true,
			format: 'headers',
			filters: { headerName: 'X-Ticket', headerValue: 'T-1' },
		});
		expect(many.output[0].map((o) => o.json.uid)).toEqual([uids[0]]);
		const got = await run('get', [{}], {
			messageFrom: 'messageId',
			folder,
			messageId: b.messageId,
		});
		expect(got.output[0][0].json).toMatchObject({ uid: uids[1], text: 'Text of B.\n' });
		const item = (k: number) => ({ uid: uids[k], uidValidity, folder });
		await run('markRead', [item(0)]);
		await run('flag', [item(0)]);
		expect((await listMessages(agent, folder))[0].flags.sort()).toEqual(['\\Flagged', '\\Seen']);
		const moved = await run('move', [item(0)], { destination: 'Spam' });
		expect(moved.output[0][0].json).toMatchObject({ folder: 'Spam' });
		const deleted = await run('delete', [item(1)], { permanent: true });
		expect(deleted.output[0][0].json).toMatchObject({ deleted: true, permanent: true });
		expect(await listMessages(agent, folder)).toEqual([]);
		const folders = await runNode({
			node,
			credentials: credentialData(agent),
			parameters: { resource: 'folder', operation: 'getMany', inbox: '' },
			items: [{ json: {} }],
		});
		expect(folders.output[0].find((o) => o.json.path === 'Sent')?.json.specialUse).toBe('\\Sent');
	});

	it('Send goes out once; the recipient gets the server Message-ID', async () => {
		const tag = randomUUID();
		const { output } = await run('send', [{}], { to: peer, subject: `Hello ${tag}`, text: 'Hi' });
		const result = output[0][0].json;
		expect(result.sent).toBe(true);
		const delivered = await parsed(peer, 'INBOX', tag);
		expect(delivered.map((m) => m.messageId)).toEqual([rewrittenId]);
	});
	// Measured today: Send outputs the Message-ID it wrote, which no copy of the message has;
	// Thread → Get on that output says "No message of the conversation of
	// <once.…@agentmail.test> is in "INBOX" or "Sent"… check the Message-ID".
	it.todo(
		'Send outputs the Message-ID the recipient sees (read back from Sent), or says that it is unknown',
	);

	it('Reply threads under the original (In-Reply-To and References pass unchanged)', async () => {
		const original = { messageId: `<q.${randomUUID()}@outside.example>`, subject: 'Question' };
		await run('reply', [{ ...original, from: { address: peer, name: 'Peer' } }], {
			source: 'inputItem',
			text: 'Answer',
			options: { sendOnce: false },
		});
		const answers = (await parsed(peer, 'INBOX', 'Question')).filter(
			(m) => m.inReplyTo === original.messageId,
		);
		expect(answers).toHaveLength(1);
		expect(answers[0].references).toBe(original.messageId);
	});

	// Measured today: the retry after the Sent copy is in place (or on nosent, after the delay)
	// finds nothing (its Message-ID and X-AgentMail-Send-Once header are gone), answers
	// sent: true, sendOnceCheck 'server-search' with no warning: the recipient gets it twice.
	it.todo(
		'Reply with Send Once, retried after the copy is in Sent, sends nothing, or warns that Sent does not show what it sent',
	);
	// Measured today: a retry right after the send (before the late copy) sends it again too.
	it.todo(
		'Reply with Send Once, retried before the Sent copy appears, sends nothing, or warns that it cannot tell',
	);
	// Measured today: as for Reply, the retry forwards the message a second time (sent: true).
	it.todo('Forward with Send Once, retried, sends nothing, or warns that Sent does not show it');
	it('Forward sends the original to the recipient', async () => {
		const tag = randomUUID();
		const original = mail(3, 'Jane <jane@customer.example>', `Contract ${tag}`, 'Signed.');
		const { folder, uids } = await seedFolder(agent, 'Fwd', [{ raw: original.raw }]);
		const first = await run('forward', [{ uid: uids[0], folder }], { to: peer, text: 'FYI' });
		expect(first.output[0][0].json).toMatchObject({ sent: true, subject: `Fwd: Contract ${tag}` });
		const [got] = await parsed(peer, 'INBOX', tag);
		expect(got.text).toContain('Signed.');
	});

	it('Thread → Get: the answer to our reply finds it in Sent once the copy is there; nosent: without it', async () => {
		const tag = randomUUID().slice(0, 8);
		const id = (name: string) => `<${name}.${tag}@outside.example>`;
		const raw = (headers: string[], subject: string) =>
			[`From: Peer <${peer}>`, `To: ${agent}`, `Subject: ${subject}`, ...headers, '', 'x', ''].join(
				'\r\n',
			);
		const at = (m: number) => `Date: ${new Date(Date.now() + m * 60_000).toUTCString()}`;
		await deliver(agent, raw([`Message-ID: ${id('a')}`, at(-3)], `Order ${tag}`));
		await run('reply', [{ messageId: id('a'), subject: `Order ${tag}`, from: { address: peer } }], {
			source: 'inputItem',
			text: 'Noted',
		});
		// The peer answers the reply it got, under the Message-ID the server gave it.
		const [seen] = await parsed(peer, 'INBOX', `Order ${tag}`);
		const r = String(seen.messageId);
		const b = id('b');
		await deliver(
			agent,
			raw(
				[`Message-ID: ${b}`, `In-Reply-To: ${r}`, `References: ${id('a')} ${r}`, at(1)],
				`Re: Order ${tag}`,
			),
		);
		await settleSent();
		const { output } = await run(
			'get',
			[{ messageId: b, inReplyTo: r, references: [id('a'), r] }],
			{
				resource: 'thread',
				format: 'headers',
			},
		);
		const messages = output[0][0].json.messages as Array<Record<string, unknown>>;
		const members = messages.map((m) => `${m.folder} ${m.messageId}`);
		expect(members.sort()).toEqual(
			[`INBOX ${id('a')}`, `INBOX ${b}`, ...(late ? [`Sent ${r}`] : [])].sort(),
		);
	}, 30_000);
	// Measured today (rewriting-smtp): the order is A, B, R: members are ordered by when they
	// were stored, and the reply's copy was stored after B, which answers it, arrived.
	if (late) {
		it.todo(
			'Thread → Get puts our reply before the answer to it when its Sent copy was stored late',
		);
	}
});
