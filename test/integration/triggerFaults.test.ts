/**
 * The AgentMail Trigger through faults, against a sandbox of its own (real Dovecot, killed and
 * restarted on purpose): exactly once across server crashes, half-open connections (also in the
 * middle of a catch-up), renumbered folders and a revoked key; activation with the server down,
 * a wrong key or a missing folder; no connection left behind by activate/deactivate cycles.
 */
import type { IDataObject } from 'n8n-workflow';

import { startProxy } from '../../tools/proxy';
import {
	credentialData,
	deliver,
	imapClient,
	listMessages,
	useOwnSandbox,
} from '../helpers/sandbox';
import { agent, duplicates, subjects, useTriggers } from '../helpers/trigger';
import { activateTrigger, message } from '../../tools/triggerHarness';
import { RETRY_JITTER } from '../../nodes/shared/imap/watch/backoff';
import { REFUSED_RETRY_INITIAL_MS } from '../../nodes/shared/imap/watch/reconnect';
import { waitFor } from '../../tools/wait';

const sandbox = useOwnSandbox();
const activate = useTriggers();

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
