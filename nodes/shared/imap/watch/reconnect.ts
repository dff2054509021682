/**
 * The reconnect policy of one IMAP session: how long to wait before the next attempt after a
 * drop (capped, jittered, doubling; fast while an outage is young, slow after it; a refused
 * login on a pace of its own), and the log lines of an outage: one when it begins, one per slow
 * attempt, one when the connection is restored.
 */
import type { PackageLogger } from '../../async';
import { errorText } from '../../errors';
import { jittered } from './backoff';

/** First reconnect delay; grows ×2 per failed attempt. */
export const RECONNECT_INITIAL_MS = 250;
/** Reconnect delay cap while an outage is young, so a restarted server is caught up quickly. */
export const RECONNECT_FAST_CAP_MS = 1_000;
/** How long an outage counts as young. */
export const RECONNECT_FAST_PERIOD_MS = 60_000;
/** Reconnect delay cap for a long outage: a down server is not hammered. */
export const RECONNECT_SLOW_CAP_MS = 30_000;
/**
 * First wait after a refused login; doubles with each refusal (5, 10, 20, 40, 80, 160 s) up to
 * {@link REFUSED_RETRY_CAP_MS}. A key restored within a minute works again within seconds,
 * where a fixed 30 s made every recovery wait up to 30 s.
 */
export const REFUSED_RETRY_INITIAL_MS = 5_000;
/**
 * Longest wait between two refused logins: a wrong key costs AgentMail at most 12 logins an
 * hour, so an account that locks after repeated failures is not pushed there. A key changed in
 * the n8n credential does not wait for it (the session checks the credential meanwhile).
 */
export const REFUSED_RETRY_CAP_MS = 5 * 60_000;

export class ReconnectPolicy {
	/** When the current outage began; undefined while connected. */
	private outageSince?: number;
	/** Attempts so far in this outage: each doubles the delay, up to the cap. */
	private attempts = 0;
	/** Whether a connect has ever succeeded: a refusal after that is retried (see onRefused). */
	private connectedOnce = false;
	/** The current outage is a refusal (login or folder): retried at the refusal pace. */
	private refused = false;
	/** Refusals since the last success or credential change: each doubles the wait. */
	private refusals = 0;

	constructor(
		/** Where the loss, the slow attempts and the restore are reported. */
		private readonly logger: PackageLogger,
		/** Server and folder, for the log lines. */
		private readonly where: string,
		/** Time and randomness (tests fix both). */
		private readonly clock: { now(): number; random(): number } = {
			now: () => Date.now(),
			random: () => Math.random(),
		},
	) {}

	/** Whether the current outage is a refused login (or folder), retried at the refusal pace. */
	get refusing(): boolean {
		return this.refused;
	}

	/** The wait before the next attempt; `cause` is why the last one failed or the link dropped. */
	nextDelay(cause: unknown): number {
		const now = this.clock.now();
		if (this.outageSince === undefined) {
			this.outageSince = now;
			this.logger.info(`IMAP connection to ${this.where} lost (${errorText(cause)}); reconnecting`);
		}
		if (this.refused) {
			// Quick at first, then less and less often: many wrong logins can get an account locked.
			const wait = jittered(
				Math.min(REFUSED_RETRY_CAP_MS, REFUSED_RETRY_INITIAL_MS * 2 ** this.refusals),
				this.clock.random,
			);
			this.refusals++;
			this.logger.warn(
				`IMAP connection to ${this.where} still refused; next attempt in ${wait} ms`,
				{ error: errorText(cause) },
			);
			return wait;
		}
		const cap =
			now - this.outageSince < RECONNECT_FAST_PERIOD_MS
				? RECONNECT_FAST_CAP_MS
				: RECONNECT_SLOW_CAP_MS;
		const base = Math.min(cap, RECONNECT_INITIAL_MS * 2 ** this.attempts);
		const wait = jittered(base, this.clock.random);
		this.attempts++;
		// Every attempt while young is quiet; then one line per slow attempt is enough.
		if (cap === RECONNECT_SLOW_CAP_MS) {
			this.logger.warn(`IMAP ${this.where} still unreachable; next attempt in ${wait} ms`, {
				error: errorText(cause),
			});
		}
		return wait;
	}

	/**
	 * A connect was refused (login or folder): 'fatal' unless one has worked before and the
	 * session may keep trying (`retryAllowed`); then 'first' for the first refusal of the
	 * outage (to be reported once) and 'again' after it.
	 */
	refusal(retryAllowed: boolean): 'fatal' | 'first' | 'again' {
		if (!this.connectedOnce || !retryAllowed) return 'fatal';
		if (this.refused) return 'again';
		this.refused = true;
		return 'first';
	}

	/**
	 * The credential changed while logins were refused: a refusal of the new one is a new
	 * refusal (reported again), and its retries start quick again.
	 */
	credentialChanged(): void {
		this.refused = false;
		this.refusals = 0;
	}

	/** A connect succeeded: logs the end of an outage, and the next one starts afresh. */
	connected(): void {
		if (this.outageSince !== undefined) {
			this.logger.info(
				`IMAP connection to ${this.where} restored after ${this.clock.now() - this.outageSince} ms`,
			);
		}
		this.outageSince = undefined;
		this.attempts = 0;
		this.refused = false;
		this.refusals = 0;
		this.connectedOnce = true;
	}
}
