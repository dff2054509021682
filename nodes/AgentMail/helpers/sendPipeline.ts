/**
 * The order a run's messages go out in: one after another, in item order, but the next item
 * is read and built while the server works on the previous one's body. n8n evaluates an item's
 * expressions synchronously, and that time would otherwise add to every message. Not earlier:
 * reading the next item while MAIL FROM, RCPT TO, DATA or the body itself are under way would
 * hold those up instead (measured in the bench's send phase: about 2 ms per message).
 *
 * The caller's loop, per item: await `bodyOnTheWay()`, read and build the item, `settle()` the
 * send in flight, then `start()` this one. Each send's outcome is reported in item order; when
 * reporting a failure throws, the error comes out of `settle()` and nothing more is started.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';

import { settle } from '../../shared/async';

/** A send's outcome as a value: what it returned, or why it failed. */
export type SendOutcome<T> = Awaited<ReturnType<typeof settle<T>>>;

/**
 * Sends one message; calls `bodyRead` once the connection has read the whole body (never,
 * when nothing is sent: the send's end then stands for it).
 */
export type Send<T> = (bodyRead: () => void) => Promise<T>;

export class SendPipeline<T> {
	/**
	 * The send under way, at most one. `outcome` never rejects, so a failure waits for its turn;
	 * `bodyOnTheWay` resolves once its whole body is on the way to the server or it has ended.
	 */
	private inFlight:
		{ i: number; outcome: Promise<SendOutcome<T>>; bodyOnTheWay: Promise<unknown> } | undefined;

	/**
	 * @param report called with each send's outcome, in the order the sends started; what it
	 * throws comes out of the `settle()` that called it.
	 */
	constructor(private readonly report: (i: number, outcome: SendOutcome<T>) => void) {}

	/** The item whose send is in flight, if any. */
	get inFlightIndex(): number | undefined {
		return this.inFlight?.i;
	}

	/** Resolves once the send in flight has its body on the way or has ended (at once if none). */
	bodyOnTheWay(): Promise<unknown> {
		return this.inFlight ? this.inFlight.bodyOnTheWay : Promise.resolve();
	}

	/** Starts item `i`'s send; the one before must have been settled. */
	start(i: number, send: Send<T>): void {
		// Two sends at once would report out of order and send after a failure.
		if (this.inFlight) {
			throw new Error(`item ${i} was started while item ${this.inFlight.i} is in flight`);
		}
		let bodyRead!: () => void;
		// The connection writes the body's end mark after it has read the body, in the same
		// turn: the next turn is when the whole body is on its way.
		const bodySent = new Promise<void>((resolve) => (bodyRead = resolve)).then(() => nextTurn());
		let sending: Promise<T>;
		try {
			sending = send(bodyRead);
		} catch (error) {
			// A send that throws before it returns fails in its turn, like any other.
			sending = Promise.reject(error);
		}
		const outcome = settle(sending);
		this.inFlight = { i, outcome, bodyOnTheWay: Promise.race([bodySent, outcome]) };
	}

	/** Waits for the send in flight, if any, and reports its outcome. */
	async settle(): Promise<void> {
		const inFlight = this.inFlight;
		if (!inFlight) return;
		// Cleared before the wait: once its outcome is reported, nothing is in flight, even when
		// reporting it throws.
		this.inFlight = undefined;
		this.report(inFlight.i, await inFlight.outcome);
	}
}
