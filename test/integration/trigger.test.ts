/**
 * The AgentMail Trigger against a sandbox of its own (real Dovecot): exactly once across
 * bursts, restarts, server crashes, half-open connections and renumbered folders; after-run
 * actions only after a successful run; automatic mail skipped; test mode read-only.
 */
import { CORPUS_DIR, corpusFiles } from '../../tools/corpus';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

import type { IDataObject, NodeOperationError } from 'n8n-workflow';

import { startProxy } from '../../tools/proxy';
import {
	credentialData,
	deliver,
	imapClient,
	listMessages,
	useOwnSandbox,
} from '../helpers/sandbox';
import { activateTrigger, message, type ActiveTrigger } from '../../tools/triggerHarness';
import { RETRY_JITTER } from '../../nodes/shared/imap/watch/backoff';
import { REFUSED_RETRY_INITIAL_MS } from '../../nodes/shared/imap/watch/reconnect';
import * as toItemModule from '../../nodes/shared/mime/toItem';
import { waitFor } from '../../tools/wait';
import { MAX_CONVERSION_ATTEMPTS } from '../../nodes/AgentMailTrigger/helpers/emitter';

const agent = 'agent@agentmail.test';
const sandbox = useOwnSandbox();
const open: ActiveTrigger[] = [];

async function activate(options: Partial<Parameters<typeof activateTrigger>[0]> = {}) {
	const trigger = await activateTrigger({ credentials: credentialData(agent), ...options });
	open.push(trigger);
	return trigger;
}

afterEach(async () => {
	for (const trigger of open.splice(0)) await trigger.close();
});

const subjects = (trigger: ActiveTrigger) =>
	trigger.items().map((item) => item.json.subject as string);
const duplicates = (values: string[]) => values.filter((v, i) => values.indexOf(v) !== i);

/** A message with a short text part and one small text attachment, a.txt. */
function withAttachment(subject: string): string {
	const boundary = 'attached';
	return message(
		subject,
		['MIME-Version: 1.0', `Content-Type: multipart/mixed; boundary="${boundary}"`],
		[
			`--${boundary}`,
			'Content-Type: text/plain',
			'',
			'See attached.',
			`--${boundary}`,
			'Content-Type: text/plain; name="a.txt"',
			'Content-Disposition: attachment; filename="a.txt"',
			'',
			'attached text',
			`--${boundary}--`,
		].join('\r\n'),
	).raw;
}

async function flagsOf(subject: string): Promise<string[] | undefined> {
	return (await listMessages(agent, 'INBOX')).find((m) => m.subject === subject)?.flags;
}

it('emits a delivered message once, with its fields and attachment, and marks it read after the run', async () => {
	const trigger = await activate();
	const boundary = 'b1';
	const { raw, messageId } = message(
		'Invoice 42',
		[
			'Cc: Boss <boss@outside.example>',
			'MIME-Version: 1.0',
			`Content-Type: multipart/mixed; boundary="${boundary}"`,
		],
		[
			`--${boundary}`,
			'Content-Type: text/plain; charset=utf-8',
			'',
			'Please pay.',
			'',
			'On Mon, Nov 23, 2026 at 9:00 AM Agent <agent@agentmail.test> wrote:',
			'> Where is the invoice?',
			`--${boundary}`,
			'Content-Type: application/pdf; name="invoice.pdf"',
			'Content-Disposition: attachment; filename="invoice.pdf"',
			'Content-Transfer-Encoding: base64',
			'',
			Buffer.from('%PDF-1.4 fake').toString('base64'),
			`--${boundary}--`,
		].join('\r\n'),
	);
	await deliver(agent, raw);
	await waitFor('the message to be emitted', () => trigger.items().length === 1);
	const [item] = trigger.items();
	expect(item.json).toMatchObject({
		folder: 'INBOX',
		messageId,
		subject: 'Invoice 42',
		from: { address: 'jane@outside.example', name: 'Jane Doe' },
		to: [{ address: agent, name: '' }],
		cc: [{ address: 'boss@outside.example', name: 'Boss' }],
		replyText: 'Please pay.',
		attachments: [
			expect.objectContaining({
				filename: 'invoice.pdf',
				mimeType: 'application/pdf',
				binaryProperty: 'attachment_0',
			}),
		],
	});
	expect(item.json.text).toContain('> Where is the invoice?');
	expect(Buffer.from(item.binary?.attachment_0.data ?? '', 'base64').toString()).toBe(
		'%PDF-1.4 fake',
	);
	await waitFor(
		'the message to be marked read',
		async () => (await flagsOf('Invoice 42'))?.includes('\\Seen') === true,
	);
	// Nothing more arrives for it, and the watermark moved with the emit.
	await new Promise((resolve) => setTimeout(resolve, 300));
	expect(trigger.items()).toHaveLength(1);
	expect(Number(trigger.staticData.lastUid)).toBe(item.json.uid);
	// The key n8n refuses a second run with, should the message ever be handed over twice.
	expect(trigger.emitted[0].key).toBe(
		`agentmail:wf-test:node-1:INBOX:${String(trigger.staticData.uidValidity)}:${String(item.json.uid)}`,
	);
});

it('a 2 MB attachment, decoded in many pieces, reaches the binary data byte for byte', async () => {
	const trigger = await activate();
	const content = randomBytes(2 * 1024 * 1024);
	const boundary = 'big';
	await deliver(
		agent,
		message(
			'Large attachment',
			['MIME-Version: 1.0', `Content-Type: multipart/mixed; boundary="${boundary}"`],
			[
				`--${boundary}`,
				'Content-Type: text/plain',
				'',
				'The file is attached.',
				`--${boundary}`,
				'Content-Type: application/octet-stream; name="data.bin"',
				'Content-Disposition: attachment; filename="data.bin"',
				'Content-Transfer-Encoding: base64',
				'',
				content.toString('base64').replace(/.{76}/g, '$&\r\n').trimEnd(),
				`--${boundary}--`,
			].join('\r\n'),
		).raw,
	);
	await waitFor('the message to be emitted', () => trigger.items().length === 1);
	const [item] = trigger.items();
	expect(item.json.attachments).toEqual([
		expect.objectContaining({ filename: 'data.bin', size: content.length }),
	]);
	// Handed to n8n as a stream of the decoded pieces (the harness reads it whole, as n8n's
	// in-memory mode does): every piece there, in order.
	const stored = Buffer.from(item.binary?.attachment_0.data ?? '', 'base64');
	expect(stored.length).toBe(content.length);
	expect(stored.equals(content)).toBe(true);
});

it('a failed run leaves its message unread; a successful one marks it read', async () => {
	await activate({ runSucceeds: (items) => items[0].json.subject !== 'will fail' });
	await deliver(agent, message('will fail').raw);
	await deliver(agent, message('will succeed').raw);
	await waitFor(
		'the success to be marked read',
		async () => (await flagsOf('will succeed'))?.includes('\\Seen') === true,
	);
	await new Promise((resolve) => setTimeout(resolve, 300));
	expect(await flagsOf('will fail')).not.toContain('\\Seen');
});

it('does not emit its own mail or automatic replies by default', async () => {
	const trigger = await activate();
	await deliver(
		agent,
		message('own copy').raw.replace('From: Jane Doe <jane@outside.example>', `From: ${agent}`),
	);
	await deliver(agent, message('out of office', ['Auto-Submitted: auto-replied']).raw);
	await deliver(agent, message('newsletter', ['Precedence: bulk']).raw);
	await deliver(agent, message('a person').raw);
	await waitFor('the ordinary message', () => trigger.items().length >= 1);
	await new Promise((resolve) => setTimeout(resolve, 300));
	expect(subjects(trigger)).toEqual(['a person']);
});

it('catches up exactly once after being deactivated', async () => {
	const first = await activate();
	await deliver(agent, message('before').raw);
	await waitFor('the first message', () => first.items().length === 1);
	await first.close();
	for (const subject of ['while off 1', 'while off 2', 'while off 3'])
		await deliver(agent, message(subject).raw);
	const second = await activate({ staticData: first.staticData });
	await waitFor('the three missed messages', () => second.items().length === 3);
	await new Promise((resolve) => setTimeout(resolve, 300));
	expect(subjects(second)).toEqual(['while off 1', 'while off 2', 'while off 3']);
});

it('a new message whose UID skips one (another came and went unseen) is emitted all the same', async () => {
	const trigger = await activate({ parameters: { afterRun: 'nothing' } });
	const other = await imapClient(agent);
	try {
		// Appended and expunged at once, well inside the 500 ms Dovecot waits before it tells an
		// idling client: the trigger never hears of it, and its UID is used up.
		const appended = await other.append('INBOX', message('came and went').raw, ['\\Deleted']);
		expect(appended).toBeTruthy();
		await other.mailboxOpen('INBOX');
		await other.messageDelete(String((appended as { uid: number }).uid), { uid: true });
	} finally {
		await other.logout();
	}
	// A lone EXISTS, but the next UID is gone: the message is found by the listing after it.
	await deliver(agent, message('after the gap').raw);
	await waitFor('the message after the gap', () => trigger.items().length >= 1);
	await new Promise((resolve) => setTimeout(resolve, 700));
	expect(subjects(trigger)).toEqual(['after the gap']);
});

it('500 messages delivered at once emit 500 times, none twice', async () => {
	const trigger = await activate({ parameters: { afterRun: 'nothing' } });
	const sent = Array.from({ length: 500 }, (_, i) => `burst ${i}`);
	await Promise.all(
		[0, 1, 2, 3].map(async (lane) => {
			for (let i = lane; i < sent.length; i += 4) await deliver(agent, message(sent[i]).raw);
		}),
	);
	await waitFor('500 emits', () => trigger.items().length >= 500, 60_000);
	await new Promise((resolve) => setTimeout(resolve, 500));
	const got = subjects(trigger);
	expect(got).toHaveLength(500);
	expect(duplicates(got)).toEqual([]);
	expect(new Set(got)).toEqual(new Set(sent));
	const keys = trigger.emitted.map((e) => e.key);
	expect(new Set(keys).size).toBe(500);
}, 90_000);

it('Dovecot killed while idling and again mid-burst, mail arriving while it is down: each emitted once', async () => {
	const trigger = await activate({ parameters: { afterRun: 'nothing' } });
	await deliver(agent, message('crash warm-up').raw);
	await waitFor('the warm-up message', () => trigger.items().length === 1);

	await sandbox().killImap();
	for (let i = 0; i < 5; i++) await sandbox().depositInMaildir(agent, message(`down ${i}`).raw);
	await sandbox().startImap();
	await waitFor('the five messages from the outage', () => trigger.items().length === 6, 30_000);

	const burst = Array.from({ length: 60 }, (_, i) => `mid-burst ${i}`);
	// An LMTP delivery cut by the kill may still have been stored: its fallback copy then makes
	// two messages with the same subject, and both must be emitted (once each).
	const fellBack = new Set<string>();
	const delivering = (async () => {
		for (const subject of burst) {
			await deliver(agent, message(subject).raw).catch(async () => {
				fellBack.add(subject);
				await sandbox().depositInMaildir(agent, message(subject).raw);
			});
			// Paced so that the kill below lands while the burst is still being delivered.
			await new Promise((resolve) => setTimeout(resolve, 40));
		}
	})();
	await waitFor('the burst to be under way', () => trigger.items().length >= 20, 30_000);
	await sandbox().killImap();
	await delivering;
	for (let i = 0; i < 5; i++)
		await sandbox().depositInMaildir(agent, message(`down again ${i}`).raw);
	await sandbox().startImap();
	// Earlier tests left mail in the folder: what counts starts at the warm-up message.
	const firstUid = trigger.items()[0].json.uid as number;
	const inMailbox = (await listMessages(agent, 'INBOX')).filter((m) => m.uid >= firstUid);
	await waitFor(
		'every message after the second crash',
		() => trigger.items().length >= inMailbox.length,
		60_000,
	);
	await new Promise((resolve) => setTimeout(resolve, 500));
	// The mailbox is the truth: each of its messages emitted exactly once, nothing else.
	const emittedUids = trigger.items().map((item) => item.json.uid as number);
	expect(duplicates(emittedUids.map(String))).toEqual([]);
	expect([...emittedUids].sort((a, b) => a - b)).toEqual(inMailbox.map((m) => m.uid));
	expect(trigger.items().map((item) => item.json.messageId)).toEqual(
		inMailbox.map((m) => m.messageId),
	);
	// Every subject arrived; a subject twice only where a cut delivery was retried.
	const got = subjects(trigger);
	expect(new Set(got).size).toBe(71);
	for (const subject of duplicates(got)) expect(fellBack.has(subject)).toBe(true);
	expect(trigger.errors).toEqual([]);
	expect(trigger.logs.some((l) => l.level === 'info' && /lost/.test(l.message))).toBe(true);
	expect(trigger.logs.some((l) => l.level === 'info' && /restored/.test(l.message))).toBe(true);
}, 120_000);

it('a connection that goes silent (half-open) is replaced within the window, nothing lost', async () => {
	const info = sandbox().info;
	const proxy = await startProxy(info.imap.host, info.imap.port);
	try {
		const windowSeconds = 10;
		const trigger = await activate({
			credentials: credentialData(agent, { imapPort: proxy.port }),
			parameters: { afterRun: 'nothing', options: { livenessSeconds: windowSeconds } },
		});
		await deliver(agent, message('before silence').raw);
		await waitFor('the first message', () => trigger.items().length === 1);
		proxy.freezeExisting();
		const frozenAt = Date.now();
		await deliver(agent, message('during silence').raw);
		await waitFor(
			'the message sent during the silence',
			() => trigger.items().length === 2,
			windowSeconds * 1000 + 10_000,
		);
		expect(Date.now() - frozenAt).toBeLessThan(windowSeconds * 1000 + 3_000);
		expect(proxy.accepted).toBe(2);
		expect(subjects(trigger)).toEqual(['before silence', 'during silence']);
		expect(trigger.logs.some((l) => /stalled/.test(l.message))).toBe(true);
	} finally {
		await proxy.close();
	}
}, 60_000);

it('the connection lost while a message is being handed over: the new connection catches up by itself', async () => {
	const info = sandbox().info;
	const proxy = await startProxy(info.imap.host, info.imap.port);
	let handingOver = false;
	let release = () => {};
	const released = new Promise<void>((resolve) => (release = resolve));
	try {
		const trigger = await activate({
			credentials: credentialData(agent, { imapPort: proxy.port }),
			parameters: { afterRun: 'nothing' },
			// Holds the first message's hand-over (storing its attachment, as a slow disk would).
			binaryGate: async () => {
				handingOver = true;
				await released;
			},
		});
		await deliver(agent, withAttachment('slow hand-over'));
		await waitFor('the hand-over to start', () => handingOver);
		await deliver(agent, message('arrived meanwhile').raw);
		proxy.dropExisting();
		await waitFor(
			'the new connection',
			() => trigger.logs.some((l) => /restored/.test(l.message)),
			10_000,
		);
		release();
		// No new mail comes to wake the new connection: it has to catch up on its own.
		await waitFor('the message that arrived meanwhile', () => trigger.items().length === 2, 10_000);
		await new Promise((resolve) => setTimeout(resolve, 300));
		expect(subjects(trigger)).toEqual(['slow hand-over', 'arrived meanwhile']);
		expect(proxy.accepted).toBe(2);
	} finally {
		release();
		await proxy.close();
	}
}, 60_000);

it('a folder deleted and recreated (new UIDVALIDITY): no replay, new mail emitted', async () => {
	const admin = await imapClient(agent);
	try {
		await admin.mailboxCreate('Projects');
		const old1 = message('project old 1');
		const old2 = message('project old 2');
		const first = await activate({ parameters: { folder: 'Projects', afterRun: 'nothing' } });
		await admin.append('Projects', old1.raw);
		await admin.append('Projects', old2.raw);
		await waitFor('the two project messages', () => first.items().length === 2);
		await first.close();
		const before = first.staticData.uidValidity;

		await admin.mailboxDelete('Projects');
		await admin.mailboxCreate('Projects');
		// The same two messages restored, an old one never seen, and one really new.
		await admin.append('Projects', old1.raw);
		await admin.append('Projects', old2.raw);
		await admin.append(
			'Projects',
			message('project archived').raw,
			[],
			new Date('2020-01-01T00:00:00Z'),
		);
		await admin.append('Projects', message('project new').raw);

		const second = await activate({
			parameters: { folder: 'Projects', afterRun: 'nothing' },
			staticData: first.staticData,
		});
		await waitFor('the new project message', () => second.items().length >= 1);
		await new Promise((resolve) => setTimeout(resolve, 300));
		expect(second.staticData.uidValidity).not.toBe(before);
		expect(subjects(second)).toEqual(['project new']);
		expect(second.errors).toEqual([]);
	} finally {
		await admin.logout();
	}
});

it('every corpus message emits exactly one item, and nothing crashes', async () => {
	const trigger = await activate({
		parameters: { afterRun: 'nothing', filters: { ignoreAutomatic: false } },
	});
	const files = corpusFiles();
	for (const file of files) await deliver(agent, readFileSync(`${CORPUS_DIR}/${file}`));
	await waitFor(
		'one item per corpus message',
		() => trigger.items().length >= files.length,
		60_000,
	);
	await new Promise((resolve) => setTimeout(resolve, 500));
	expect(trigger.items()).toHaveLength(files.length);
	const uids = trigger.items().map((item) => item.json.uid as number);
	expect(new Set(uids).size).toBe(files.length);
	expect(trigger.errors).toEqual([]);
}, 90_000);

it('a wrong key fails the activation with a clear message and leaves no connection', async () => {
	const error = await activateTrigger({
		credentials: credentialData(agent, { apiKey: 'am_wrong' + 'x'.repeat(24) }),
	}).catch((e: Error) => e);
	expect(error).toBeInstanceOf(Error);
	expect((error as Error).message).toMatch(
		/refused the login for agent@agentmail\.test: check the API key/,
	);
	expect(await sandbox().imapConnectionCount()).toBe(0);
});

it('a missing folder fails the activation naming the folder', async () => {
	const error = await activateTrigger({
		credentials: credentialData(agent),
		parameters: { folder: 'Nope' },
	}).catch((e: Error) => e);
	expect((error as Error).message).toMatch(/The folder "Nope" does not exist/);
});

it('100 activate/deactivate cycles leave no connection behind', async () => {
	for (let i = 0; i < 100; i++) {
		const trigger = await activateTrigger({
			credentials: credentialData(agent),
			parameters: { afterRun: 'nothing' },
		});
		await trigger.close();
	}
	await waitFor(
		'all connections to close',
		async () => (await sandbox().imapConnectionCount()) === 0,
		10_000,
	);
}, 120_000);

it('test mode returns the newest message at once, without marking it or moving the watermark', async () => {
	await deliver(agent, message('newest for test').raw);
	const staticData: IDataObject = {};
	const manual = await activateTrigger({
		credentials: credentialData(agent),
		mode: 'manual',
		staticData,
	});
	await manual.response.manualTriggerFunction?.();
	expect(subjects(manual)).toEqual(['newest for test']);
	expect(await flagsOf('newest for test')).not.toContain('\\Seen');
	expect(staticData).toEqual({});
});

it('the key revoked while active: reported once, retried with a backoff, resumes by itself when the key works again', async () => {
	const oldKey = credentialData(agent).apiKey as string;
	const trigger = await activate({ parameters: { afterRun: 'nothing' } });
	await deliver(agent, message('before revocation').raw);
	await waitFor('the first message', () => trigger.items().length === 1);
	const newKey = `am_${'r'.repeat(32)}`;
	await sandbox().replaceKey(agent, newKey);
	let restored = false;
	try {
		// A server restart drops the session; the reconnect meets the revoked key.
		await sandbox().killImap();
		await sandbox().startImap();
		await waitFor(
			'the trigger to report the refused login',
			() => trigger.failures.length > 0,
			30_000,
		);
		expect(trigger.failures[0].message).toMatch(
			/refused the login for agent@agentmail\.test: check the API key/,
		);
		// Mail keeps arriving while the key is refused; nothing may be lost.
		await deliver(agent, message('during revocation').raw);
		await new Promise((resolve) => setTimeout(resolve, 3_000));
		// Not given up (n8n would stop retrying a failed trigger after ~15 s), and no retry storm:
		// the next attempt is at least 4 s away (5 s, jittered), so nothing more was tried meanwhile.
		expect(trigger.errors).toEqual([]);
		expect(trigger.failures).toHaveLength(1);
		expect(await sandbox().imapConnectionCount()).toBe(0);

		await sandbox().replaceKey(agent, oldKey);
		restored = true;
		// The key is back before the first retry (5 s) or, at the latest, the second (10 s after it).
		const slowest = 3 * REFUSED_RETRY_INITIAL_MS * (1 + RETRY_JITTER) + 5_000;
		await waitFor('the mail from the revocation', () => trigger.items().length === 2, slowest);
		expect(subjects(trigger)).toEqual(['before revocation', 'during revocation']);
		expect(trigger.failures).toHaveLength(1);
		expect(trigger.errors).toEqual([]);
		const logged = JSON.stringify(trigger.logs);
		expect(logged).toContain('restored');
		expect(logged).not.toContain(oldKey);
		expect(logged).not.toContain(newKey);
		expect(JSON.stringify(trigger.failures.map((e) => e.message))).not.toContain(newKey);
	} finally {
		if (!restored) await sandbox().replaceKey(agent, oldKey);
	}
}, 90_000);

it('a message over the size cap starts a run with its headers and a warning', async () => {
	const trigger = await activate({
		parameters: { afterRun: 'nothing', options: { maxMessageMb: 0.01 } },
	});
	await deliver(agent, message('big one', [], 'x'.repeat(20_000)).raw);
	await waitFor('the big message', () => trigger.items().length === 1);
	const [item] = trigger.items();
	expect(item.json).toMatchObject({
		subject: 'big one',
		text: '',
		from: { address: 'jane@outside.example' },
	});
	expect((item.json.warnings as string[])[0]).toMatch(
		/over the 0\.0 MB \(10,485 bytes\) limit set in the trigger: only its headers were read/,
	);
});

it('up to N messages per run, and handled messages moved to another folder after it', async () => {
	const trigger = await activate({
		parameters: { runMode: 'batch', batchSize: 3, afterRun: 'move', moveTo: 'Trash' },
	});
	const batchSubjects = ['batch a', 'batch b', 'batch c', 'batch d', 'batch e'];
	// Delivered while the trigger is busy elsewhere would also batch; here they come as one burst.
	await Promise.all(
		batchSubjects.map(async (subject) => await deliver(agent, message(subject).raw)),
	);
	await waitFor('all five messages', () => trigger.items().length === 5, 20_000);
	expect(trigger.emitted.every((run) => run.items.length <= 3)).toBe(true);
	expect(subjects(trigger).sort()).toEqual(batchSubjects);
	await waitFor(
		'the five messages to be moved to Trash',
		async () =>
			(await listMessages(agent, 'Trash')).filter((m) => m.subject?.startsWith('batch ')).length ===
			5,
	);
	expect(
		(await listMessages(agent, 'INBOX')).filter((m) => m.subject?.startsWith('batch ')),
	).toEqual([]);
});

it('activated while the server is down: no error, it connects and emits once the server is back', async () => {
	const staticData: IDataObject = {};
	// First activation while up, so the watermark exists; then the server goes away.
	const first = await activate({ staticData, parameters: { afterRun: 'nothing' } });
	await first.close();
	await sandbox().killImap();
	try {
		const trigger = await activate({ staticData, parameters: { afterRun: 'nothing' } });
		expect(trigger.errors).toEqual([]);
		await sandbox().depositInMaildir(agent, message('while the server was down').raw);
		await sandbox().startImap();
		await waitFor(
			'the message once the server is back',
			() => trigger.items().length === 1,
			30_000,
		);
		expect(subjects(trigger)).toEqual(['while the server was down']);
	} finally {
		await sandbox().startImap();
	}
}, 60_000);

it('test mode on an empty folder waits for the next message', async () => {
	const admin = await imapClient(agent);
	try {
		await admin.mailboxCreate('Empty');
		const manual = await activateTrigger({
			credentials: credentialData(agent),
			mode: 'manual',
			parameters: { folder: 'Empty' },
		});
		const waiting = manual.response.manualTriggerFunction?.();
		await new Promise((resolve) => setTimeout(resolve, 500));
		expect(manual.items()).toEqual([]);
		await admin.append('Empty', message('first in empty').raw);
		await waiting;
		expect(subjects(manual)).toEqual(['first in empty']);
	} finally {
		await admin.logout();
	}
});

it('a message whose hand-over fails (binary data not stored) is fetched again, and emitted once', async () => {
	const trigger = await activate({ binaryFailures: 2, parameters: { afterRun: 'nothing' } });
	await deliver(agent, withAttachment('with attachment, disk full'));
	await waitFor(
		'the message after the failed hand-overs',
		() => trigger.items().length === 1,
		30_000,
	);
	await new Promise((resolve) => setTimeout(resolve, 500));
	expect(subjects(trigger)).toEqual(['with attachment, disk full']);
	expect(
		trigger.logs.some(
			(l) => l.level === 'warn' && /handing over message \d+ failed: .*ENOSPC/.test(l.message),
		),
	).toBe(true);
	expect(trigger.failures).toHaveLength(1);
	expect(trigger.failures[0].message).toMatch(
		/^n8n could not store the attachments of message \d+: ENOSPC: no space left on device$/,
	);
	expect((trigger.failures[0] as NodeOperationError).description).toMatch(/Download Attachments/);
});

it('the binary store down for a while: one failed execution, no reconnect, then every message once and in order', async () => {
	const info = sandbox().info;
	// Through a proxy that counts connections: a hand-over failure must not replace the connection.
	const proxy = await startProxy(info.imap.host, info.imap.port);
	try {
		let storeDown = true;
		const trigger = await activate({
			credentials: credentialData(agent, { imapPort: proxy.port }),
			parameters: { afterRun: 'nothing' },
			binaryStoreDown: () => storeDown,
		});
		const sent = ['store down 1 (file)', 'store down 2', 'store down 3 (file)', 'store down 4'];
		for (const subject of sent) {
			await deliver(
				agent,
				subject.includes('file') ? withAttachment(subject) : message(subject).raw,
			);
		}
		// The first message holds the rest: nothing goes out while the store fails.
		await waitFor(
			'three failed tries',
			() => trigger.logs.filter((l) => /handing over message/.test(l.message)).length >= 3,
			30_000,
		);
		expect(trigger.items()).toEqual([]);
		storeDown = false;
		await waitFor('every message', () => trigger.items().length === sent.length, 30_000);
		await new Promise((resolve) => setTimeout(resolve, 500));
		expect(subjects(trigger)).toEqual(sent);
		for (const item of trigger.items().filter((i) => /file/.test(i.json.subject as string))) {
			expect(Buffer.from(item.binary?.attachment_0.data ?? '', 'base64').toString()).toBe(
				'attached text',
			);
		}
		expect(trigger.failures).toHaveLength(1);
		expect(trigger.failures[0].message).toMatch(/could not store the attachments/);
		expect(proxy.accepted).toBe(1);
		expect(trigger.logs.some((l) => /reconnecting|lost/.test(l.message))).toBe(false);
		expect(trigger.logs.some((l) => l.level === 'info' && /works again/.test(l.message))).toBe(
			true,
		);
		// The pauses between tries grow: three tries took more than the first pause alone.
		const tries = trigger.logs.filter((l) => /next try in (\d+) ms/.test(l.message));
		const pauses = tries.map((l) => Number(/next try in (\d+) ms/.exec(l.message)?.[1]));
		expect(pauses[2]).toBeGreaterThan(pauses[0]);
	} finally {
		await proxy.close();
	}
}, 90_000);

it('a message whose conversion keeps throwing goes out with its headers and a warning, and the mail behind it flows', async () => {
	// Taken before the spy replaces it on the module the emitter calls it through.
	const real = toItemModule.parseMessage;
	const parse = jest.spyOn(toItemModule, 'parseMessage');
	let poisonTries = 0;
	parse.mockImplementation(async (raw, meta, options) => {
		if (raw.includes('Subject: poison')) {
			poisonTries++;
			throw new Error('a parser surprise');
		}
		return await real(raw, meta, options);
	});
	try {
		const trigger = await activate({ parameters: { afterRun: 'markRead' } });
		await deliver(agent, withAttachment('poison'));
		await deliver(agent, message('behind the poison').raw);
		await waitFor('both messages', () => trigger.items().length === 2, 30_000);
		expect(subjects(trigger)).toEqual(['poison', 'behind the poison']);
		expect(poisonTries).toBe(MAX_CONVERSION_ATTEMPTS);
		const [poison, behind] = trigger.items();
		expect(poison.json.warnings).toEqual([
			expect.stringContaining('could not be converted (a parser surprise, 3 tries)'),
		]);
		expect(poison.json.from).toEqual({ address: 'jane@outside.example', name: 'Jane Doe' });
		expect(poison.binary).toBeUndefined();
		expect(behind.json.warnings).toEqual([]);
		expect(trigger.failures).toHaveLength(1);
		expect(trigger.failures[0].message).toMatch(/could not convert message \d+ of INBOX/);
		// Its run succeeded, so it is marked read like any other.
		await waitFor(
			'the poison message to be marked read',
			async () => (await flagsOf('poison'))?.includes('\\Seen') === true,
		);
	} finally {
		parse.mockRestore();
	}
}, 60_000);

it('a conversion that throws once and then works emits the whole message, with no failed execution', async () => {
	// Taken before the spy replaces it on the module the emitter calls it through.
	const real = toItemModule.parseMessage;
	const parse = jest.spyOn(toItemModule, 'parseMessage');
	let thrown = false;
	parse.mockImplementation(async (raw, meta, options) => {
		if (!thrown && raw.includes('Subject: hiccup')) {
			thrown = true;
			throw new Error('out of memory for a moment');
		}
		return await real(raw, meta, options);
	});
	try {
		const trigger = await activate({ parameters: { afterRun: 'nothing' } });
		await deliver(agent, withAttachment('hiccup'));
		await waitFor('the message', () => trigger.items().length === 1, 30_000);
		expect(thrown).toBe(true);
		const [item] = trigger.items();
		expect(item.json.warnings).toEqual([]);
		expect(Buffer.from(item.binary?.attachment_0.data ?? '', 'base64').toString()).toBe(
			'attached text',
		);
		expect(trigger.failures).toEqual([]);
	} finally {
		parse.mockRestore();
	}
}, 60_000);

it('a connection that goes silent in the middle of a catch-up is replaced too, nothing lost or doubled', async () => {
	const info = sandbox().info;
	const proxy = await startProxy(info.imap.host, info.imap.port);
	try {
		const windowSeconds = 10;
		const credentials = credentialData(agent, { imapPort: proxy.port });
		const parameters = { afterRun: 'nothing', options: { livenessSeconds: windowSeconds } };
		const first = await activate({ credentials, parameters });
		await first.close();
		// 150 messages wait while the trigger is off; the next activation catches up on them and
		// the connection goes silent after the 20th.
		const backlog = Array.from({ length: 150 }, (_, i) => `backlog ${i}`);
		for (const subject of backlog)
			await deliver(agent, message(subject, [], 'y'.repeat(20_000)).raw);
		let frozenAt = 0;
		const trigger = await activate({
			credentials,
			parameters,
			staticData: first.staticData,
			onEmit: (count) => {
				if (count === 20) {
					proxy.freezeExisting();
					frozenAt = Date.now();
				}
			},
		});
		await waitFor(
			'the whole backlog',
			() => trigger.items().length >= 150,
			windowSeconds * 1000 + 20_000,
		);
		await new Promise((resolve) => setTimeout(resolve, 500));
		expect(frozenAt).toBeGreaterThan(0);
		const got = subjects(trigger);
		expect(duplicates(got)).toEqual([]);
		expect(new Set(got)).toEqual(new Set(backlog));
		expect(proxy.accepted).toBe(3);
		expect(trigger.logs.some((l) => /catch-up .* stalled/.test(l.message))).toBe(true);
	} finally {
		await proxy.close();
	}
}, 90_000);

describe('Inbox Address: one credential, several inboxes', () => {
	const team = 'team@agentmail.test';

	it('watches the inbox it names, with the credential’s key', async () => {
		const trigger = await activate({ parameters: { inbox: team, afterRun: 'nothing' } });
		await deliver(agent, message('to the agent, not watched').raw);
		await deliver(team, message('to the team inbox').raw);
		await waitFor('the team inbox message', () => trigger.items().length === 1);
		await new Promise((resolve) => setTimeout(resolve, 500));
		expect(subjects(trigger)).toEqual(['to the team inbox']);
	});

	it('pointed at another inbox and back: each keeps its place, nothing replayed or skipped', async () => {
		const staticData: IDataObject = {};
		const parameters = { afterRun: 'nothing' };
		// Mail already in the agent's inbox before it is first watched: old, never to be emitted.
		await deliver(agent, message('agent, there before 1').raw);
		await deliver(agent, message('agent, there before 2').raw);
		const onTeam = await activate({ staticData, parameters: { ...parameters, inbox: team } });
		await deliver(team, message('team before the switch').raw);
		await waitFor('the first team message', () => onTeam.items().length === 1);
		await onTeam.close();
		// Now the credential's own inbox; meanwhile mail reaches the team inbox.
		const onAgent = await activate({ staticData, parameters });
		await deliver(team, message('team while watching the agent').raw);
		await deliver(agent, message('agent while watched').raw);
		await waitFor('the agent message', () => onAgent.items().length === 1);
		await onAgent.close();
		const back = await activate({ staticData, parameters: { ...parameters, inbox: team } });
		await waitFor('the team mail that waited', () => back.items().length === 1);
		await new Promise((resolve) => setTimeout(resolve, 500));
		expect(subjects(onAgent)).toEqual(['agent while watched']);
		expect(subjects(back)).toEqual(['team while watching the agent']);
	});

	it('an inbox the key may not open fails the activation naming the inbox, never the key', async () => {
		const other = 'other@agentmail.test';
		const failure = await activate({ parameters: { inbox: other } }).then(
			() => null,
			(error: Error) => error,
		);
		expect(failure?.message).toMatch(
			new RegExp(
				`refused the login for ${other}: the credential's API key may not open this inbox`,
			),
		);
		expect(failure?.message).not.toContain(String(credentialData(agent).apiKey));
	});

	it('an Inbox Address that is not an address fails the activation with what to enter', async () => {
		const failure = await activate({ parameters: { inbox: 'team inbox' } }).then(
			() => null,
			(error: Error) => error,
		);
		expect(failure?.message).toMatch(/Inbox Address "team inbox" is not an email address/);
	});
});
