/**
 * Waiting, for the tests, the bench and the scripts alike: one poller, and `sleep` is
 * node:timers/promises' setTimeout.
 */
import { setTimeout as sleep } from 'node:timers/promises';

/** How often {@link waitFor} looks unless told: a local check costs next to nothing. */
export const WAIT_INTERVAL_MS = 25;
/** How long {@link waitFor} looks unless told. */
export const WAIT_TIMEOUT_MS = 20_000;

/**
 * Polls `check` until it gives a value other than undefined or false, and returns that value;
 * fails naming `what` after `timeoutMs`.
 */
export async function waitFor<T>(
	what: string,
	check: () => T | Promise<T>,
	timeoutMs = WAIT_TIMEOUT_MS,
	intervalMs = WAIT_INTERVAL_MS,
): Promise<Exclude<T, undefined | false>> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const value = await check();
		if (value !== undefined && value !== false) return value as Exclude<T, undefined | false>;
		if (Date.now() > deadline)
			throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
		await sleep(intervalMs);
	}
}
