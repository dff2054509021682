/**
 * When handing a message over fails: our own work (converting it, storing its binary data,
 * n8n taking the emit), not the connection. The session keeps its healthy connection, leaves
 * the watermark before the message, and tries the same message again after a growing pause,
 * so the mail behind it waits in order instead of being skipped, and nothing reconnects.
 */
import type { PackageLogger } from '../../async';
import type { HandOverError } from '../../errors';
import { jittered } from './backoff';

/** First pause before a failed hand-over is tried again: a store that hiccups is retried soon. */
const HANDOVER_RETRY_INITIAL_MS = 1_000;
/**
 * Longest pause between two tries: a store that is down costs one FETCH of one message per
 * try, and the mail flows again within this long of the store's return.
 */
export const HANDOVER_RETRY_CAP_MS = 15_000;
/** The pause before try number `attempt + 1` of a failed hand-over (attempt counts from 0). */
function handOverDelay(attempt: number): number {
	return jittered(Math.min(HANDOVER_RETRY_CAP_MS, HANDOVER_RETRY_INITIAL_MS * 2 ** attempt));
}

/**
 * The pause before the next try of the one message that cannot be handed over now, and the
 * log lines of a run of failed hand-overs (each try, and once when they work again).
 */
export class HandOverRetry {
	/** The pause before the next try; no catch-up starts while it runs. */
	private timer?: NodeJS.Timeout;
	/** Failed tries of the message that cannot be handed over now; 0 when none fails. */
	private attempts = 0;
	/** When hand-overs started failing (for the log line once they work again). */
	private failingSince?: number;

	constructor(
		/** Where each failed try and the recovery are reported. */
		private readonly logger: PackageLogger,
		/** Server and folder, for the log lines. */
		private readonly where: string,
	) {}

	/** A try waits for its pause: a catch-up asked for meanwhile is left to it. */
	get waiting(): boolean {
		return this.timer !== undefined;
	}

	/** Schedules the next try of a message whose hand-over failed, with a growing pause. */
	schedule(error: HandOverError, retry: () => void): void {
		const wait = handOverDelay(this.attempts);
		this.attempts++;
		this.failingSince ??= Date.now();
		this.logger.warn(
			`AgentMail Trigger: ${error.message} (${this.where}); the mail behind it waits, next try in ${wait} ms`,
			{ uid: error.uid, attempt: this.attempts },
		);
		clearTimeout(this.timer);
		this.timer = setTimeout(() => {
			this.timer = undefined;
			retry();
		}, wait);
	}

	/** Drops the waiting try: a catch-up starts now (and takes the message along), or never. */
	cancel(): void {
		clearTimeout(this.timer);
		this.timer = undefined;
	}

	/** A message was handed over: ends a run of failed hand-overs, and says so once. */
	works(): void {
		if (this.failingSince === undefined) return;
		this.logger.info(
			`AgentMail Trigger: handing messages over works again after ${Date.now() - this.failingSince} ms (${this.where})`,
		);
		this.failingSince = undefined;
		this.attempts = 0;
	}
}
