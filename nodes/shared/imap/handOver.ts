/**
 * When handing a message over fails: our own work (converting it, storing its binary data,
 * n8n taking the emit), not the connection. The session keeps its healthy connection, leaves
 * the watermark before the message, and tries the same message again after a growing pause,
 * so the mail behind it waits in order instead of being skipped, and nothing reconnects.
 */

/** First pause before a failed hand-over is tried again: a store that hiccups is retried soon. */
export const HANDOVER_RETRY_INITIAL_MS = 1_000;
/**
 * Longest pause between two tries: a store that is down costs one FETCH of one message per
 * try, and the mail flows again within this long of the store's return.
 */
export const HANDOVER_RETRY_CAP_MS = 15_000;
/** ± share of each pause that is random, so many triggers on one failing store do not retry in step. */
export const RETRY_JITTER = 0.2;

/** A message that could not be handed over; `message` says which one and why. */
export class HandOverError extends Error {
	constructor(
		readonly uid: number,
		readonly cause: unknown,
	) {
		super(`handing over message ${uid} failed: ${describe(cause)}`);
		this.name = 'HandOverError';
	}
}

/** `base` ms, give or take {@link RETRY_JITTER} of it. */
export function jittered(base: number): number {
	return Math.round(base * (1 - RETRY_JITTER + Math.random() * 2 * RETRY_JITTER));
}

/** The pause before try number `attempt + 1` of a failed hand-over (attempt counts from 0). */
export function handOverDelay(attempt: number): number {
	return jittered(Math.min(HANDOVER_RETRY_CAP_MS, HANDOVER_RETRY_INITIAL_MS * 2 ** attempt));
}

function describe(error: unknown): string {
	return String((error as Error)?.message ?? error);
}
