/**
 * The reconnect policy's pace (nodes/shared/imap/reconnect.ts) on a fixed clock without jitter:
 * a refused login is retried quickly at first and then less and less often up to a ceiling,
 * reported once per refusal, and starts over when the credential changes or a login works.
 */
import {
	REFUSED_RETRY_CAP_MS,
	REFUSED_RETRY_INITIAL_MS,
	RECONNECT_FAST_CAP_MS,
	RECONNECT_FAST_PERIOD_MS,
	RECONNECT_INITIAL_MS,
	RECONNECT_SLOW_CAP_MS,
	ReconnectPolicy,
} from '../../nodes/shared/imap/watch/reconnect';
import { silentLogger } from '../../nodes/shared/async';

function policy() {
	const clock = { time: 0, now: () => clock.time, random: () => 0.5 };
	const reconnect = new ReconnectPolicy(silentLogger, 'imap.test:993 (INBOX)', clock);
	return { clock, reconnect };
}

/** Waits chosen for `count` refused logins in a row, the clock moving by each wait. */
function refusedWaits(
	reconnect: ReconnectPolicy,
	clock: { time: number },
	count: number,
): number[] {
	const waits: number[] = [];
	for (let i = 0; i < count; i++) {
		reconnect.refusal(true);
		const wait = reconnect.nextDelay(new Error('refused the login'));
		waits.push(wait);
		clock.time += wait;
	}
	return waits;
}

it('a refused login is retried after 5 s, then doubling to a ceiling of 5 minutes', () => {
	const { clock, reconnect } = policy();
	reconnect.connected();
	expect(REFUSED_RETRY_INITIAL_MS).toBe(5_000);
	expect(REFUSED_RETRY_CAP_MS).toBe(300_000);
	expect(refusedWaits(reconnect, clock, 9)).toEqual([
		5_000, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000,
	]);
});

it('a refusal is reported once per episode; a changed credential or a working login starts a new one', () => {
	const { clock, reconnect } = policy();
	expect(reconnect.refusal(true)).toBe('fatal'); // never connected: the activation fails
	reconnect.connected();
	expect(reconnect.refusal(false)).toBe('fatal'); // no retrying allowed
	expect(reconnect.refusal(true)).toBe('first');
	expect(reconnect.refusal(true)).toBe('again');
	refusedWaits(reconnect, clock, 4);

	reconnect.credentialChanged();
	expect(reconnect.refusing).toBe(false);
	expect(reconnect.refusal(true)).toBe('first');
	expect(reconnect.nextDelay(new Error('refused'))).toBe(REFUSED_RETRY_INITIAL_MS);

	reconnect.connected();
	expect(reconnect.refusing).toBe(false);
	expect(refusedWaits(reconnect, clock, 2)).toEqual([5_000, 10_000]);
});

it('an outage that is not a refusal keeps its pace: fast while young, then the slow cap', () => {
	const { clock, reconnect } = policy();
	reconnect.connected();
	const waits: number[] = [];
	while (clock.time < RECONNECT_FAST_PERIOD_MS + 2 * RECONNECT_SLOW_CAP_MS) {
		const wait = reconnect.nextDelay(new Error('connect ECONNREFUSED'));
		waits.push(wait);
		clock.time += wait;
	}
	expect(waits.slice(0, 4)).toEqual([
		RECONNECT_INITIAL_MS,
		2 * RECONNECT_INITIAL_MS,
		RECONNECT_FAST_CAP_MS,
		RECONNECT_FAST_CAP_MS,
	]);
	expect(waits.at(-1)).toBe(RECONNECT_SLOW_CAP_MS);
});

it('the waits are jittered by at most a fifth either way', () => {
	for (const random of [0, 0.999]) {
		const clock = { now: () => 0, random: () => random };
		const reconnect = new ReconnectPolicy(silentLogger, 'imap.test:993 (INBOX)', clock);
		reconnect.connected();
		reconnect.refusal(true);
		const wait = reconnect.nextDelay(new Error('refused'));
		expect(wait).toBeGreaterThanOrEqual(REFUSED_RETRY_INITIAL_MS * 0.8);
		expect(wait).toBeLessThanOrEqual(REFUSED_RETRY_INITIAL_MS * 1.2);
	}
});
