/** The randomness of the trigger's pauses: a failed hand-over's and a reconnect's. */

/**
 * ± share of each pause that is random, so many triggers on one failing store or one server
 * do not retry in step.
 */
export const RETRY_JITTER = 0.2;

/** `base` ms, give or take {@link RETRY_JITTER} of it (`random` in [0, 1), tests fix it). */
export function jittered(base: number, random: () => number = Math.random): number {
	return Math.round(base * (1 - RETRY_JITTER + random() * 2 * RETRY_JITTER));
}
