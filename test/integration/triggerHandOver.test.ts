/**
 * The AgentMail Trigger handing messages over to n8n, against a sandbox of its own (real
 * Dovecot): a hand-over that fails (binary data not stored, the store down for a while) or is
 * cut by a lost connection, and a conversion that throws, each cost nothing: the message is
 * fetched again or goes out with its headers and a warning, and the mail behind it flows.
 */
import type { NodeOperationError } from 'n8n-workflow';

import { startProxy } from '../../tools/proxy';
import { credentialData, deliver, useOwnSandbox } from '../helpers/sandbox';
import { agent, flagsOf, subjects, useTriggers } from '../helpers/trigger';
import { message } from '../../tools/triggerHarness';
import * as toItemModule from '../../nodes/shared/mime/toItem';
import { waitFor } from '../../tools/wait';
import { MAX_CONVERSION_ATTEMPTS } from '../../nodes/AgentMailTrigger/helpers/emitter';

const sandbox = useOwnSandbox();
const activate = useTriggers();

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
