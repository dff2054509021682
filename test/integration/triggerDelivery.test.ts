/**
 * The AgentMail Trigger delivering mail, against a sandbox of its own (real Dovecot): each
 * message emitted exactly once with its fields and attachments, across bursts, catch-ups after
 * deactivation and UIDs used up unseen; after-run actions (mark read, move, batches) only after
 * a successful run; automatic mail skipped; the size cap; test mode read-only. The trigger's
 * faults, hand-overs and inboxes have files of their own (triggerFaults, triggerHandOver,
 * triggerInboxes).
 */
import { CORPUS_DIR, corpusFiles } from '../../tools/corpus';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

import type { IDataObject } from 'n8n-workflow';

import {
	credentialData,
	deliver,
	imapClient,
	listMessages,
	useOwnSandbox,
} from '../helpers/sandbox';
import { agent, duplicates, flagsOf, subjects, useTriggers } from '../helpers/trigger';
import { activateTrigger, message } from '../../tools/triggerHarness';
import { waitFor } from '../../tools/wait';

// A sandbox of its own: the tests count every message the agent's inbox emits.
useOwnSandbox();
const activate = useTriggers();

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
