/**
 * The outage report of one IMAP session. Reconnecting heals a dropped connection by itself, so
 * a short outage is only logged; one that lasts past a threshold (the server down, the network
 * gone, TLS failing, a connection that keeps going silent) is reported once, so that the user
 * hears of it (in n8n: a failed execution, which starts the error workflow) and the trigger is
 * never silently dead. When mail flows again, one line says how long it lasted and how many
 * messages were caught up.
 *
 * An outage begins when the session first has no connection (a drop, or an attempt that
 * failed) and ends when a catch-up pass has finished on a new connection: a connection that
 * drops again before that continues the same outage. Only the time without a connection counts
 * towards the threshold: while connected, the session is catching up, not cut off.
 */
import type { PackageLogger } from '../../async';
import { redact } from '../../connectionErrors';
import { errorText } from '../../errors';
import { RECONNECT_SLOW_CAP_MS } from './reconnect';

/**
 * Default time without a connection before the outage is reported: server restarts, network
 * blips and AgentMail deploys heal within the first minute of fast retries and should not page
 * anyone, while a real outage is still reported well before a correspondent would miss a reply.
 */
export const DEFAULT_OUTAGE_REPORT_MS = 5 * 60_000;

/** The time source and timer of the watch; tests inject a manual one. */
export interface OutageClock {
	now(): number;
	setTimeout(callback: () => void, ms: number): unknown;
	clearTimeout(handle: unknown): void;
}

const systemClock: OutageClock = {
	now: () => Date.now(),
	setTimeout: (callback, ms) => setTimeout(callback, ms),
	clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface OutageWatchOptions {
	/** Time without a connection before the outage is reported; 0 never reports it. */
	thresholdMs: number;
	/** Server and folder, for the report and the log lines. */
	where: string;
	logger: PackageLogger;
	/** Called once per outage past the threshold with what is wrong and what the trigger does. */
	onReport?: (message: string) => void;
	/** Values that must never appear in a report or a log line (the API key). */
	secrets: () => Array<string | undefined>;
	clock?: OutageClock;
}

interface Outage {
	/** When the session first had no connection. */
	since: number;
	/** Time without a connection before the current stretch began (earlier stretches). */
	offlineBefore: number;
	/** When the current stretch without a connection began; undefined while connected. */
	offlineSince?: number;
	/** Why the last connection or attempt failed. */
	cause: string;
	/** Reported, here or another way (a refused login): never twice per outage. */
	reported: boolean;
	/** Messages handed over before the outage began, to count what was caught up. */
	handedOverBefore: number;
}

export class OutageWatch {
	private outage?: Outage;
	private timer?: unknown;
	private readonly clock: OutageClock;

	constructor(private readonly options: OutageWatchOptions) {
		this.clock = options.clock ?? systemClock;
	}

	/** Whether an outage is going on (no catch-up has finished since the connection was lost). */
	get active(): boolean {
		return this.outage !== undefined;
	}

	/**
	 * The session has no connection: the connection dropped or an attempt failed (`cause`).
	 * Starts the outage, or continues it; `handedOver` is the catch-up's running count.
	 */
	offline(cause: unknown, handedOver: number): void {
		const now = this.clock.now();
		const text = this.clean(errorText(cause ?? 'unknown error'));
		if (!this.outage) {
			this.outage = {
				since: now,
				offlineBefore: 0,
				cause: text,
				reported: false,
				handedOverBefore: handedOver,
			};
		}
		const outage = this.outage;
		outage.cause = text;
		if (outage.offlineSince !== undefined) return;
		outage.offlineSince = now;
		this.arm();
	}

	/** The user has been told another way (a refused login is reported as such): no report now. */
	reportedElsewhere(): void {
		if (this.outage) this.outage.reported = true;
		this.disarm();
	}

	/** A connection opened the folder: the time offline stops counting until it drops again. */
	online(): void {
		const outage = this.outage;
		if (!outage || outage.offlineSince === undefined) return;
		outage.offlineBefore += this.clock.now() - outage.offlineSince;
		outage.offlineSince = undefined;
		this.disarm();
	}

	/**
	 * A catch-up pass finished on a connection: mail flows again. Ends the outage with one line
	 * saying how long it lasted and how many messages (`handedOver`, the running count) came in.
	 */
	caughtUp(handedOver: number): void {
		const outage = this.outage;
		if (!outage || outage.offlineSince !== undefined) return;
		this.outage = undefined;
		this.disarm();
		const caught = handedOver - outage.handedOverBefore;
		this.options.logger.info(
			`AgentMail Trigger: IMAP ${this.options.where} is back after an outage of ${formatDuration(this.clock.now() - outage.since)}; ${caught === 1 ? '1 message' : `${caught} messages`} that arrived meanwhile caught up`,
			{ outageMs: this.clock.now() - outage.since, caughtUp: caught, reported: outage.reported },
		);
	}

	/** The session stops: no report after this. */
	stop(): void {
		this.disarm();
		this.outage = undefined;
	}

	/** Starts the timer for what is left of the threshold, or reports at once when it has passed. */
	private arm(): void {
		const outage = this.outage;
		const threshold = this.options.thresholdMs;
		if (!outage || outage.reported || !(threshold > 0) || this.timer !== undefined) return;
		const left = threshold - outage.offlineBefore;
		if (left <= 0) {
			this.report();
			return;
		}
		this.timer = this.clock.setTimeout(() => {
			this.timer = undefined;
			this.report();
		}, left);
	}

	private disarm(): void {
		if (this.timer === undefined) return;
		this.clock.clearTimeout(this.timer);
		this.timer = undefined;
	}

	private report(): void {
		const outage = this.outage;
		if (!outage || outage.reported || outage.offlineSince === undefined) return;
		outage.reported = true;
		const offline = outage.offlineBefore + this.clock.now() - outage.offlineSince;
		const message = this.clean(
			`AgentMail Trigger has not reached IMAP ${this.options.where} for ${formatDuration(offline)}: ${withoutFinalStop(outage.cause)}. It keeps retrying (at least every ${RECONNECT_SLOW_CAP_MS / 1000} s) and will catch up on all mail that arrived meanwhile once the server answers again; nothing is lost.`,
		);
		this.options.logger.warn(message, { offlineMs: offline });
		this.options.onReport?.(message);
	}

	private clean(text: string): string {
		return redact(text, this.options.secrets());
	}
}

function withoutFinalStop(text: string): string {
	return text.trim().replace(/\.$/, '');
}

/** "45 s", "5 min", "6 min 12 s", "2 h 5 min": how long an outage lasted, for people. */
export function formatDuration(ms: number): string {
	const seconds = Math.round(ms / 1000);
	if (seconds < 60) return `${seconds} s`;
	const minutes = Math.floor(seconds / 60);
	if (minutes < 60) {
		const rest = seconds % 60;
		return rest ? `${minutes} min ${rest} s` : `${minutes} min`;
	}
	const hours = Math.floor(minutes / 60);
	const rest = minutes % 60;
	return rest ? `${hours} h ${rest} min` : `${hours} h`;
}
