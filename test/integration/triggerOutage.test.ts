/**
 * The AgentMail Trigger is never silently dead, against a sandbox of its own (real Dovecot): an
 * outage past the "Report Outage After" option is one failed execution and one warn line, a
 * shorter one none, and the end of either is one line with the mail caught up; a key changed
 * in the credential while logins are refused is used within seconds; a trigger deactivated
 * while its connection hangs leaves no socket and no timer behind.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { IDataObject } from 'n8n-workflow';

import { startProxy, type SilentProxy } from '../../tools/proxy';
import { credentialData, deliver, imapClient, useOwnSandbox } from '../helpers/sandbox';
import { activateTrigger, message, type ActiveTrigger } from '../../tools/triggerHarness';
import { CREDENTIAL_CHECK_MS } from '../../nodes/shared/imap/watch/credential';
import { RETRY_JITTER } from '../../nodes/shared/imap/watch/backoff';
import { waitFor } from '../../tools/wait';

const agent = 'agent@agentmail.test';
const sandbox = useOwnSandbox();
const open: ActiveTrigger[] = [];
const proxies: SilentProxy[] = [];

/** A threshold of 3 s (the option takes fractions of a minute), so the tests stay short. */
const THRESHOLD_MINUTES = 0.05;
const THRESHOLD_MS = THRESHOLD_MINUTES * 60_000;

async function activate(options: Partial<Parameters<typeof activateTrigger>[0]> = {}) {
	const trigger = await activateTrigger({ credentials: credentialData(agent), ...options });
	open.push(trigger);
	return trigger;
}

async function proxy(): Promise<SilentProxy> {
	const info = sandbox().info;
	const started = await startProxy(info.imap.host, info.imap.port);
	proxies.push(started);
	return started;
}

afterEach(async () => {
	for (const trigger of open.splice(0)) await trigger.close();
	for (const started of proxies.splice(0)) await started.close();
	await sandbox().startImap();
});

const subjects = (trigger: ActiveTrigger) =>
	trigger.items().map((item) => item.json.subject as string);
const reports = (trigger: ActiveTrigger) =>
	trigger.logs.filter((l) => l.level === 'warn' && /has not reached IMAP/.test(l.message));
const backLines = (trigger: ActiveTrigger) =>
	trigger.logs.filter((l) => l.level === 'info' && /is back after an outage of/.test(l.message));

/**
 * Gives the inbox its key back and waits until it logs in: Dovecot notices a new passwd file by
 * its modification time in whole seconds, so a login in the second of the change may still
 * meet the previous key.
 */
async function restoreKey(apiKey: string): Promise<void> {
	await sandbox().replaceKey(agent, apiKey);
	await waitFor(
		'the restored key to log in',
		async () =>
			await imapClient(agent, apiKey).then(
				async (client) => {
					await client.logout();
					return true;
				},
				() => false,
			),
	);
}

/**
 * Waits until the proxy has seen every client socket close. The close travels to the proxy's
 * end of the socket within milliseconds; one left open would stay until a timeout of 15 s
 * (greeting) or more (IMAP_SOCKET_TIMEOUT_MS), far past this bound.
 */
async function socketsClosed(through: SilentProxy): Promise<void> {
	await waitFor('the trigger to close its socket', () => through.open === 0, 2_000);
}

/** Timers (setTimeout / setInterval) alive in this process right now. */
const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

it('the server down past the threshold: one failed execution and one warn line, however long; back: one line with the mail caught up', async () => {
	const apiKey = credentialData(agent).apiKey as string;
	const trigger = await activate({
		parameters: { afterRun: 'nothing', options: { outageMinutes: THRESHOLD_MINUTES } },
	});
	await deliver(agent, message('before the outage').raw);
	await waitFor('the first message', () => trigger.items().length === 1);

	await sandbox().killImap();
	for (let i = 0; i < 3; i++) await sandbox().depositInMaildir(agent, message(`down ${i}`).raw);
	await waitFor('the outage to be reported', () => trigger.failures.length > 0, 20_000);
	const [failure] = trigger.failures;
	expect(failure.message).toMatch(
		/^AgentMail Trigger has not reached IMAP 127\.0\.0\.1:\d+ \(INBOX\) for 3 s: IMAP 127\.0\.0\.1:\d+ refused the connection: nothing accepts connections on that port/,
	);
	expect(failure.message).toMatch(
		/It keeps retrying \(at least every 30 s\) and will catch up on all mail that arrived meanwhile once the server answers again; nothing is lost\.$/,
	);
	// Many more failed attempts (and thresholds' worth of time) later: still one of each.
	await sleep(3 * THRESHOLD_MS);
	expect(trigger.failures).toHaveLength(1);
	expect(reports(trigger).map((l) => l.message)).toEqual([failure.message]);
	expect(backLines(trigger)).toEqual([]);

	await sandbox().startImap();
	await waitFor('the mail from the outage', () => trigger.items().length === 4, 30_000);
	await waitFor('the line saying it is back', () => backLines(trigger).length === 1);
	expect(backLines(trigger)[0].message).toMatch(
		/^AgentMail Trigger: IMAP 127\.0\.0\.1:\d+ \(INBOX\) is back after an outage of \d+ s; 3 messages that arrived meanwhile caught up$/,
	);
	// Dovecot numbers mail dropped into new/ in the order it reads the directory, not the order
	// it was written: each once, in UID order, is what the trigger owes.
	const got = subjects(trigger);
	expect(got[0]).toBe('before the outage');
	expect(got.slice(1).sort()).toEqual(['down 0', 'down 1', 'down 2']);
	const uids = trigger.items().map((item) => item.json.uid as number);
	expect(uids).toEqual([...uids].sort((a, b) => a - b));
	expect(trigger.failures).toHaveLength(1);
	expect(trigger.errors).toEqual([]);
	expect(JSON.stringify([trigger.logs, trigger.failures.map((e) => e.message)])).not.toContain(
		apiKey,
	);
}, 90_000);

it('a restart shorter than the threshold: no failed execution, and one line with the mail caught up', async () => {
	// The default threshold (5 minutes): a routine restart must not page anyone.
	const trigger = await activate({ parameters: { afterRun: 'nothing' } });
	await deliver(agent, message('before the restart').raw);
	await waitFor('the first message', () => trigger.items().length === 1);
	await sandbox().killImap();
	await sandbox().depositInMaildir(agent, message('during the restart').raw);
	await sleep(1_000);
	await sandbox().startImap();
	await waitFor('the mail from the restart', () => trigger.items().length === 2, 30_000);
	await waitFor('the line saying it is back', () => backLines(trigger).length === 1);
	expect(backLines(trigger)[0].message).toMatch(/; 1 message that arrived meanwhile caught up$/);
	expect(trigger.failures).toEqual([]);
	expect(reports(trigger)).toEqual([]);
}, 60_000);

it('a connection gone silent and the network gone with it: reported once, naming the stall; back when the network is', async () => {
	const through = await proxy();
	const trigger = await activate({
		credentials: credentialData(agent, { imapPort: through.port }),
		parameters: {
			afterRun: 'nothing',
			options: { outageMinutes: THRESHOLD_MINUTES, livenessSeconds: 10 },
		},
	});
	await deliver(agent, message('before the silence').raw);
	await waitFor('the first message', () => trigger.items().length === 1);
	// Half-open: the connection stops answering without closing, and new ones are cut.
	through.newConnections = 'cut';
	through.freezeExisting();
	await deliver(agent, message('during the silence').raw);
	await waitFor('the outage to be reported', () => trigger.failures.length > 0, 30_000);
	// The first report may name the stall or a cut attempt, whichever failed last.
	expect(trigger.failures[0].message).toMatch(
		/has not reached IMAP 127\.0\.0\.1:\d+ \(INBOX\) for 3 s: (the connection stopped answering \(NOOP got no answer within 2500 ms\)|IMAP 127\.0\.0\.1:\d+ closed the connection unexpectedly)/,
	);
	expect(trigger.logs.some((l) => /stalled/.test(l.message))).toBe(true);

	through.newConnections = 'forward';
	await waitFor('the mail from the silence', () => trigger.items().length === 2, 30_000);
	await waitFor('the line saying it is back', () => backLines(trigger).length === 1);
	expect(backLines(trigger)[0].message).toMatch(/; 1 message that arrived meanwhile caught up$/);
	expect(trigger.failures).toHaveLength(1);
	expect(subjects(trigger)).toEqual(['before the silence', 'during the silence']);
}, 90_000);

it('the key changed in the credential while logins are refused: used within seconds, without a second report', async () => {
	const oldKey = credentialData(agent).apiKey as string;
	const credentials = credentialData(agent);
	// Past the time the refusal takes to come (restart, retries, Dovecot's delay on a refusal).
	const trigger = await activate({
		credentials,
		parameters: { afterRun: 'nothing', options: { outageMinutes: 0.5 } },
	});
	await deliver(agent, message('before the new key').raw);
	await waitFor('the first message', () => trigger.items().length === 1);
	const newKey = `am_${'n'.repeat(32)}`;
	try {
		// The key rotated on AgentMail's side; the restart ends the session logged in with the old.
		await sandbox().replaceKey(agent, newKey);
		await sandbox().killImap();
		await sandbox().startImap();
		await waitFor('the refused login to be reported', () => trigger.failures.length > 0, 30_000);
		expect(trigger.failures[0].message).toMatch(/refused the login for agent@agentmail\.test/);
		await deliver(agent, message('while refused').raw);

		// The user pastes the new key into the credential; n8n does not re-activate the trigger.
		credentials.apiKey = newKey;
		await waitFor(
			'the mail waiting for the new key',
			() => trigger.items().length === 2,
			CREDENTIAL_CHECK_MS * (1 + RETRY_JITTER) + 10_000,
		);
		expect(subjects(trigger)).toEqual(['before the new key', 'while refused']);
		// A refused login is its own report: no outage report on top of it.
		expect(trigger.failures).toHaveLength(1);
		expect(reports(trigger)).toEqual([]);
		expect(
			trigger.logs.some((l) => /credential of agent@agentmail\.test changed/.test(l.message)),
		).toBe(true);
		const logged = JSON.stringify([trigger.logs, trigger.failures.map((e) => e.message)]);
		expect(logged).not.toContain(newKey);
		expect(logged).not.toContain(oldKey);
	} finally {
		await restoreKey(oldKey);
	}
}, 90_000);

describe('deactivated while its connection hangs', () => {
	it('an established connection gone silent: close() leaves no socket and no timer behind', async () => {
		const through = await proxy();
		const timersBefore = timers();
		const trigger = await activateTrigger({
			credentials: credentialData(agent, { imapPort: through.port }),
			parameters: { afterRun: 'nothing', options: { outageMinutes: THRESHOLD_MINUTES } },
		});
		await deliver(agent, message('before the hang').raw);
		await waitFor('the first message', () => trigger.items().length === 1);
		through.freezeExisting();
		expect(through.open).toBe(1);
		await trigger.close();
		expect(timers()).toBe(timersBefore);
		await socketsClosed(through);
		// Nothing wakes up later either: no reconnect, no report.
		await sleep(THRESHOLD_MS + 1_000);
		expect(through.accepted).toBe(1);
		expect(trigger.failures).toEqual([]);
		expect(trigger.errors).toEqual([]);
	}, 60_000);

	it('a reconnect stuck waiting for the greeting: close() ends it, no socket and no timer behind', async () => {
		const through = await proxy();
		const timersBefore = timers();
		const trigger = await activateTrigger({
			credentials: credentialData(agent, { imapPort: through.port }),
			parameters: { afterRun: 'nothing', options: { outageMinutes: THRESHOLD_MINUTES } },
		});
		// The connection drops, and the server behind the next one accepts but never speaks.
		through.newConnections = 'hold';
		through.dropExisting();
		await waitFor('the reconnect to hang', () => through.accepted === 2 && through.open === 1);
		await trigger.close();
		expect(timers()).toBe(timersBefore);
		await socketsClosed(through);
		await sleep(THRESHOLD_MS + 1_000);
		expect(through.accepted).toBe(2);
		expect(trigger.failures).toEqual([]);
	}, 60_000);

	it('while waiting to retry a refused login: close() leaves no timer behind', async () => {
		const oldKey = credentialData(agent).apiKey as string;
		const staticData: IDataObject = {};
		const timersBefore = timers();
		const trigger = await activateTrigger({
			credentials: credentialData(agent),
			staticData,
			parameters: { afterRun: 'nothing' },
		});
		try {
			await sandbox().replaceKey(agent, `am_${'w'.repeat(32)}`);
			await sandbox().killImap();
			await sandbox().startImap();
			await waitFor('the refused login', () => trigger.failures.length > 0, 30_000);
			await trigger.close();
			expect(timers()).toBe(timersBefore);
			expect(await sandbox().imapConnectionCount()).toBe(0);
		} finally {
			await restoreKey(oldKey);
		}
	}, 60_000);
});
