/**
 * How much one IMAP FETCH holds, for both the trigger's catch-up and the action node's reads:
 * a bounded number of messages and of source bytes, so a backlog is never held whole.
 */

/**
 * Source bytes fetched in one FETCH command: the most a catch-up holds in memory at once (one
 * message over it is fetched alone, up to the trigger's size cap).
 */
export const FETCH_CHUNK_BYTES = 8 * 1024 * 1024;

/** A listed message and what of it to fetch. */
export interface PlannedMessage {
	uid: number;
	size: number;
	fetch: 'none' | 'source' | 'headers';
}

/**
 * Cuts the planned messages, in UID order, into chunks of at most `messages` messages to fetch
 * and, for the whole ones, about `bytes` of source (a single larger message gets a chunk of its
 * own): the most one chunk holds in memory. Old messages ride along without counting.
 */
export function chunkPlan(
	entries: PlannedMessage[],
	limits: { messages: number; bytes: number },
): PlannedMessage[][] {
	const chunks: PlannedMessage[][] = [];
	let current: PlannedMessage[] = [];
	let count = 0;
	let bytes = 0;
	for (const entry of entries) {
		const size = entry.fetch === 'source' ? entry.size : 0;
		const counted = entry.fetch === 'none' ? 0 : 1;
		if (count > 0 && (count + counted > limits.messages || bytes + size > limits.bytes)) {
			chunks.push(current);
			current = [];
			count = 0;
			bytes = 0;
		}
		current.push(entry);
		count += counted;
		bytes += size;
	}
	if (current.length) chunks.push(current);
	return chunks;
}
