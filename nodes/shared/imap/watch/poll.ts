/**
 * New mail on a server without IDLE: where the session would idle, it asks the server (NOOP)
 * once per poll interval instead. The server answers a NOOP with the EXISTS it would have pushed
 * during IDLE, and the catch-up takes it from there (./catchUp, from the watermark), so polling
 * changes only how soon a message is seen, never whether it is seen once.
 */
import type { ImapFlow } from 'imapflow';

import type { PackageLogger } from '../../async';

/** Default poll interval: as soon as a Connection Check at its default finds mail anyway. */
export const DEFAULT_POLL_INTERVAL_MS = 30_000;
/** Shortest interval: one NOOP every 5 s is light for any server, shorter gains little. */
export const MIN_POLL_INTERVAL_MS = 5_000;
/** Longest interval: past an hour, mail waits longer than anyone expects of a trigger. */
export const MAX_POLL_INTERVAL_MS = 3_600_000;

/** Whether the server pushes new mail (IDLE, RFC 2177); without it the session polls. */
export function canIdle(client: ImapFlow): boolean {
	return client.capabilities.has('IDLE');
}

/** The interval asked for, within the bounds; the default when none or not a number. */
export function pollIntervalMs(seconds: unknown): number {
	const ms = Number(seconds) * 1000;
	if (seconds === undefined || seconds === null || seconds === '' || !Number.isFinite(ms)) {
		return DEFAULT_POLL_INTERVAL_MS;
	}
	return Math.min(MAX_POLL_INTERVAL_MS, Math.max(MIN_POLL_INTERVAL_MS, Math.round(ms)));
}

/** What the poll needs of its session. */
export interface PollHost {
	/** The connection in use now; none while disconnected. */
	current(): ImapFlow | undefined;
	isStopped(): boolean;
	/** A catch-up pass is running: it idles (polls) again by itself when it ends. */
	catchingUp(): boolean;
	/** Waits again after a poll: the session's idle, which comes back to {@link MailPoll.schedule}. */
	idle(client: ImapFlow): void;
}

export class MailPoll {
	/** The next poll, when one is due; one at a time whatever asks for it. */
	private timer?: NodeJS.Timeout;
	/** When the last poll was sent (ms): a restart of the wait keeps the pace. */
	private lastPollAt = 0;
	/** The info line that this server is polled has been logged (once per session). */
	private reported = false;

	constructor(
		private readonly intervalMs: number,
		private readonly host: PollHost,
		private readonly logger: PackageLogger,
		/** Server and folder, for the log line. */
		private readonly where: string,
	) {}

	/** Polls at most one interval after the last poll; does nothing when one is already due. */
	schedule(): void {
		if (this.timer || this.host.isStopped()) return;
		if (!this.reported) {
			this.reported = true;
			this.logger.info(
				`The IMAP server ${this.where} does not announce IDLE, so it cannot push new mail: the trigger asks it for new mail every ${this.intervalMs / 1000} s instead (Options → Poll Interval).`,
			);
		}
		const wait = Math.max(0, this.lastPollAt + this.intervalMs - Date.now());
		this.timer = setTimeout(() => {
			this.timer = undefined;
			void this.poll();
		}, wait);
	}

	stop(): void {
		clearTimeout(this.timer);
		this.timer = undefined;
	}

	private async poll(): Promise<void> {
		// Read when due, not when scheduled: the connection may have been replaced meanwhile.
		const client = this.host.current();
		if (!client || this.host.isStopped() || this.host.catchingUp()) return;
		this.lastPollAt = Date.now();
		try {
			await client.noop();
		} catch {
			return; // The connection failed: its 'close' drives the reconnect, which polls again.
		}
		this.host.idle(client);
	}
}
