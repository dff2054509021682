/**
 * Every feature against the rewriting SMTP profiles (tools/sandbox/profiles.ts): the SMTP side
 * gives each message a Message-ID of its own, drops X- headers, and puts the Sent copy in place
 * late (`rewriting-smtp`) or never (`rewriting-smtp-nosent`). IMAP is Dovecot as it is. What
 * each feature does there: the same as on Dovecot, less (and how, said in the item), or a
 * clear refusal; docs/servers.md describes it for users.
 */
import { randomUUID } from 'node:crypto';

import { simpleParser, type ParsedMail } from 'mailparser';

import { AgentMail } from '../../nodes/AgentMail/AgentMail.node';
import type { Feature, FeatureVerdict } from '../../nodes/shared/capabilities';
import { mail, seedFolder } from '../helpers/mailbox';
import { runNode } from '../helpers/nodeHarness';
import { askQuestion, askTwice } from '../helpers/question';
import {
	credentialData,
	deliver,
	imapClient,
	listMessages,
	smtpTransport,
	useOwnSandbox,
} from '../helpers/sandbox';
import { activateTrigger } from '../../tools/triggerHarness';
import { REWRITE_SENT_DELAY_MS, SANDBOX_PROFILES } from '../../tools/sandbox/profiles';
import { REWRITTEN_ID_DOMAIN, rewriteMessage } from '../../tools/sandbox/rewrite';
import { waitFor } from '../../tools/wait';

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
				'the late Sent copy',
				async () => (await parsed(agent, 'Sent', tag)).length === 1,
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
			await waitFor('the run', () => trigger.items().length === 1);
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
	it('Send outputs the Message-ID the recipient sees (read back from Sent), or says that it is unknown', async () => {
		const tag = randomUUID();
		const { output } = await run('send', [{}], { to: peer, subject: `Seen ${tag}`, text: 'Hi' });
		const result = output[0][0].json;
		const [delivered] = await parsed(peer, 'INBOX', tag);
		expect(delivered.messageId).toEqual(rewrittenId);
		// What the node wrote is kept aside, and is not what the recipient got.
		expect(result.messageIdWritten).toMatch(/^<[^>]+@agentmail\.test>$/);
		expect(result.messageIdWritten).not.toBe(delivered.messageId);
		if (!late) {
			expect(result.messageId).toBeNull();
			expect(result.messageIdNote).toMatch(
				/No copy of this message (appeared in "Sent" of agent@agentmail\.test within 10 s|is in "Sent" of agent@agentmail\.test \(earlier messages left none either\)), so the Message-ID its recipients see is unknown/,
			);
			return;
		}
		expect(result.messageId).toBe(delivered.messageId);
		expect(result.messageIdNote).toBeUndefined();
		// The output leads to the message: Thread → Get finds it in Sent.
		const thread = await run('get', [result], { resource: 'thread', format: 'headers' });
		const messages = thread.output[0][0].json.messages as Array<Record<string, unknown>>;
		expect(messages.map((m) => `${m.folder} ${m.messageId}`)).toEqual([
			`Sent ${delivered.messageId}`,
		]);
	}, 30_000);

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

	/** The warning a Send Once item carries where Sent keeps no copy of what was sent. */
	const cannotTell =
		/No copy of this message (appeared in|is in) "Sent" of agent@agentmail\.test.*Send Once cannot tell on this server what this node already sent; a retry of this node cannot recognise it and would send it again/;
	/** The answers the peer got to `messageId`. */
	const answersTo = async (messageId: string, tag: string) =>
		(await parsed(peer, 'INBOX', tag)).filter((m) => m.inReplyTo === messageId);

	/**
	 * A retry: the first run's item went out; late: the retry finds its copy (the mark without
	 * X- survives) and sends nothing; nosent: both items say Send Once cannot tell, the log once
	 * per run, and the retry, finding nothing, sends (never claims "already sent").
	 */
	async function expectRetryOutcome(
		first: Awaited<ReturnType<typeof run>>,
		again: Awaited<ReturnType<typeof run>>,
		copies: () => Promise<ParsedMail[]>,
	) {
		const sent = first.output[0][0].json;
		const retried = again.output[0][0].json;
		expect(sent).toMatchObject({ sent: true, sendOnceCheck: 'server-search' });
		const delivered = await copies();
		if (late) {
			expect(sent.sendOnceWarning).toBeUndefined();
			expect(retried).toMatchObject({ sent: false, alreadySent: true });
			// The copy's Message-ID, the one the recipient has.
			expect(retried.messageId).toBe(delivered[0].messageId);
			expect(delivered).toHaveLength(1);
			return;
		}
		for (const [json, logs] of [
			[sent, first.logs],
			[retried, again.logs],
		] as const) {
			expect(json.sendOnceWarning).toMatch(cannotTell);
			expect(json.alreadySent).toBeUndefined();
			expect(logs.filter((log) => log.level === 'warn').map((log) => log.message)).toEqual([
				`Send Once: ${String(json.sendOnceWarning)}`,
			]);
		}
		expect(retried.sent).toBe(true);
		expect(delivered).toHaveLength(2);
	}

	it('Reply with Send Once, retried after the copy is in Sent, sends nothing, or warns that Sent does not show what it sent', async () => {
		const tag = randomUUID();
		const original = { messageId: `<q.${tag}@outside.example>`, subject: `Question ${tag}` };
		const item = { ...original, from: { address: peer } };
		const first = await run('reply', [item], { source: 'inputItem', text: 'Answer' });
		await settleSent();
		const again = await run('reply', [item], { source: 'inputItem', text: 'Answer' });
		await expectRetryOutcome(first, again, () => answersTo(original.messageId, tag));
	}, 40_000);

	it('Reply with Send Once, retried before the Sent copy appears, sends nothing, or warns that it cannot tell', async () => {
		const tag = randomUUID();
		const original = { messageId: `<q.${tag}@outside.example>`, subject: `Question ${tag}` };
		const item = { ...original, from: { address: peer } };
		// The second item has nothing to answer: the run fails once the first has gone out, and
		// is retried at once, before the server's Sent copy would have come on its own.
		const failed = run('reply', [item, { subject: 'no Message-ID' }], {
			source: 'inputItem',
			text: 'Answer',
		});
		await expect(failed).rejects.toThrow(/Message-ID/);
		const again = await run('reply', [item], { source: 'inputItem', text: 'Answer' });
		const retried = again.output[0][0].json;
		const delivered = await answersTo(original.messageId, tag);
		if (late) {
			// The failed run ended only once the copy of what it sent was in Sent.
			expect(retried).toMatchObject({ sent: false, alreadySent: true });
			expect(retried.messageId).toBe(delivered[0].messageId);
			expect(delivered).toHaveLength(1);
		} else {
			expect(retried).toMatchObject({ sent: true });
			expect(retried.sendOnceWarning).toMatch(cannotTell);
			expect(delivered).toHaveLength(2);
		}
	}, 40_000);

	it('Forward with Send Once, retried, sends nothing, or warns that Sent does not show it', async () => {
		const tag = randomUUID();
		const original = mail(4, 'Jane <jane@customer.example>', `Receipt ${tag}`, 'Paid.');
		const { folder, uids } = await seedFolder(agent, `Once${tag.slice(0, 8)}`, [
			{ raw: original.raw },
		]);
		const item = { uid: uids[0], folder };
		const first = await run('forward', [item], { to: peer, text: 'FYI' });
		await settleSent();
		const again = await run('forward', [item], { to: peer, text: 'FYI' });
		await expectRetryOutcome(first, again, () => parsed(peer, 'INBOX', `Receipt ${tag}`));
	}, 40_000);
	it('Forward sends the original to the recipient', async () => {
		const tag = randomUUID();
		const original = mail(3, 'Jane <jane@customer.example>', `Contract ${tag}`, 'Signed.');
		const { folder, uids } = await seedFolder(agent, 'Fwd', [{ raw: original.raw }]);
		const first = await run('forward', [{ uid: uids[0], folder }], { to: peer, text: 'FYI' });
		expect(first.output[0][0].json).toMatchObject({ sent: true, subject: `Fwd: Contract ${tag}` });
		const [got] = await parsed(peer, 'INBOX', tag);
		expect(got.text).toContain('Signed.');
	});

	it('Get Many with Body Contains works as on Dovecot', async () => {
		const tag = randomUUID().slice(0, 8);
		const a = mail(5, 'Jane <jane@customer.example>', `Body ${tag}`, `Word alpha${tag}.`);
		const b = mail(6, 'Jane <jane@customer.example>', `Other ${tag}`, 'Nothing.');
		const { folder, uids } = await seedFolder(agent, 'Body', [{ raw: a.raw }, { raw: b.raw }]);
		const many = await run('getMany', [{}], {
			folder,
			returnAll: true,
			format: 'headers',
			filters: { text: `alpha${tag}` },
		});
		expect(many.output[0].map((o) => o.json.uid)).toEqual([uids[0]]);
	});

	it('Send and Wait: the question goes out; asked again in the execution once Sent had its time, it is not sent again, or (no copy) it is sent again, never called already sent', async () => {
		const { subject, first, again } = await askTwice(agent, peer, settleSent);
		const delivered = await parsed(peer, 'INBOX', subject);
		expect(first.item).toMatchObject({ sent: true });
		expect(first.waits).toHaveLength(1);
		if (late) {
			expect(again.item).toMatchObject({ sent: false, alreadySent: true });
			expect(again.item.messageId).toBe(delivered[0].messageId);
			expect(delivered).toHaveLength(1);
		} else {
			expect(again.item).toMatchObject({ sent: true });
			expect(again.item.alreadySent).toBeUndefined();
			expect(delivered).toHaveLength(2);
		}
	}, 30_000);

	if (!late) {
		it('Send and Wait where Sent keeps no copy: asked again in the execution, it is sent again and both items (and the log, once a run) say Send Once cannot tell', async () => {
			const { first, again } = await askTwice(agent, peer);
			for (const asked of [first, again]) {
				expect(asked.item.sendOnceWarning).toMatch(/Send Once cannot tell on this server/);
				expect(
					asked.logs.filter((l) => l.level === 'warn' && /^Send Once: /.test(l.message)),
				).toHaveLength(1);
			}
			expect(again.item).toMatchObject({ sent: true });
			expect(again.item.alreadySent).toBeUndefined();
		}, 30_000);
	}

	it(
		late
			? 'Send and Wait with Reply by Email: the item and the log warn that the server replaced the question’s Message-ID, and the next question is refused before it is sent'
			: 'Send and Wait with Reply by Email: with no copy in Sent the item says it cannot be told whether replies will match',
		async () => {
			// An inbox no earlier test sent from: what the node learns of a server lasts the process.
			const asker = 'other@agentmail.test';
			const watching = await activateTrigger({
				credentials: credentialData(asker),
				parameters: { afterRun: 'nothing' },
			});
			try {
				const execution = randomUUID();
				const asked = await askQuestion(asker, peer, `Reply ${execution.slice(0, 8)}?`, execution, {
					replyByEmail: true,
				});
				expect(asked.item).toMatchObject({ sent: true });
				expect(asked.waits).toHaveLength(1);
				if (!late) {
					expect(asked.item.replyByEmailNote).toMatch(/cannot be told here/);
					expect(asked.item.replyByEmailWarning).toBeUndefined();
					return;
				}
				expect(asked.item.replyByEmailWarning).toMatch(/gave the question a Message-ID of its own/);
				expect(
					asked.logs.filter((l) => l.level === 'warn' && /Message-ID of its own/.test(l.message)),
				).toHaveLength(1);
				const next = randomUUID();
				const subject = `Next ${next.slice(0, 8)}?`;
				await expect(
					askQuestion(asker, peer, subject, next, { replyByEmail: true }),
				).rejects.toThrow(/Reply by Email cannot work from other@agentmail\.test: /);
				expect(await parsed(peer, 'INBOX', subject)).toEqual([]);
			} finally {
				await watching.close();
			}
		},
		40_000,
	);

	it('Inbox → Check Capabilities reports the IMAP side as on Dovecot and changes nothing', async () => {
		const counts = async () => {
			const client = await imapClient(agent);
			try {
				const out: Record<string, unknown> = {};
				for (const folder of await client.list()) {
					out[folder.path] = await client.status(folder.path, { messages: true, unseen: true });
				}
				return JSON.stringify(out);
			} finally {
				await client.logout();
			}
		};
		// The search probes need a message in INBOX and in Sent, whatever ran before.
		const tag = randomUUID();
		const probe = (to: string) =>
			[
				`From: ${peer}`,
				`To: ${to}`,
				`Subject: Probe ${tag}`,
				`Message-ID: <${tag}.${to}>`,
				'',
				'x',
				'',
			].join('\r\n');
		await deliver(agent, probe(agent));
		const client = await imapClient(agent);
		try {
			await client.append('Sent', probe(peer), ['\\Seen']);
		} finally {
			await client.logout();
		}
		const before = await counts();
		const { output } = await runNode({
			node,
			credentials: credentialData(agent),
			parameters: { resource: 'inbox', operation: 'checkCapabilities' },
			items: [{ json: {} }],
		});
		expect(await counts()).toBe(before);
		const report = output[0][0].json as unknown as {
			features: Record<Feature, FeatureVerdict>;
			smtp: { login: string; sentCopies: string };
		};
		expect(report.smtp.login).toBe('ok');
		const verdicts = Object.entries(report.features)
			.filter(([feature]) => feature !== 'sendOnce')
			.map(([feature, v]) => `${feature} ${v.verdict}`);
		expect(verdicts.filter((v) => !v.endsWith(' full'))).toEqual([]);
		expect(verdicts).toHaveLength(7);
		// Earlier tests in this file sent from agent@: the check reports what their copies showed.
		expect(report.smtp.sentCopies).toBe(late ? 'rewrites' : 'no-copy');
		expect(report.features.sendOnce.verdict).toBe(late ? 'full' : 'unavailable');
		if (!late) expect(report.features.sendOnce.how).toMatch(/left no copy in Sent/);
	});

	/**
	 * A received, our reply R (its copy stored late, or never), and B, the peer's answer to R
	 * under the Message-ID the server gave R; Thread → Get of B once the copy had its time.
	 */
	async function conversation() {
		const tag = randomUUID().slice(0, 8);
		const id = (name: string) => `<${name}.${tag}@outside.example>`;
		const raw = (headers: string[], subject: string) =>
			[`From: Peer <${peer}>`, `To: ${agent}`, `Subject: ${subject}`, ...headers, '', 'x', ''].join(
				'\r\n',
			);
		const at = (m: number) => `Date: ${new Date(Date.now() + m * 60_000).toUTCString()}`;
		await deliver(agent, raw([`Message-ID: ${id('a')}`, at(-3)], `Order ${tag}`));
		const replying = run(
			'reply',
			[{ messageId: id('a'), subject: `Order ${tag}`, from: { address: peer } }],
			{ source: 'inputItem', text: 'Noted' },
		);
		// The node waits for the Sent copy: the peer answers before that, as soon as it has the
		// reply, under the Message-ID the server gave it.
		const atPeer = () => parsed(peer, 'INBOX', `Order ${tag}`);
		await waitFor('the reply at the peer', async () => (await atPeer()).length === 1);
		const [seen] = await atPeer();
		const r = String(seen.messageId);
		const b = id('b');
		await deliver(
			agent,
			raw(
				[`Message-ID: ${b}`, `In-Reply-To: ${r}`, `References: ${id('a')} ${r}`, at(1)],
				`Re: Order ${tag}`,
			),
		);
		// B is stored before the copy of R, which it answers.
		expect(await parsed(agent, 'Sent', `Order ${tag}`)).toEqual([]);
		await replying;
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
		return { a: id('a'), r, b, members: messages.map((m) => `${m.folder} ${m.messageId}`) };
	}

	it('Thread → Get: the answer to our reply finds it in Sent once the copy is there; nosent: without it', async () => {
		const { a, r, b, members } = await conversation();
		expect([...members].sort()).toEqual(
			[`INBOX ${a}`, `INBOX ${b}`, ...(late ? [`Sent ${r}`] : [])].sort(),
		);
	}, 40_000);
	if (late) {
		// The reply's copy was stored after B, which answers it, arrived: the References chain
		// puts it before B all the same.
		it('Thread → Get puts our reply before the answer to it when its Sent copy was stored late', async () => {
			const { a, r, b, members } = await conversation();
			expect(members).toEqual([`INBOX ${a}`, `Sent ${r}`, `INBOX ${b}`]);
		}, 40_000);
	}
});
