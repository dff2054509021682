/**
 * Collects the warnings of one message: what could not be parsed or was left out.
 */
import { MAX_QUOTED_CHARS, MAX_WARNINGS } from './limits';

/** An ordered, de-duplicated, bounded list of warnings. */
export class Warnings {
	private readonly list: string[] = [];
	private dropped = 0;

	/** Adds a warning unless the same text is already there. */
	add(message: string): void {
		if (this.list.includes(message)) return;
		// Pathological mail (thousands of broken parts) must not produce a huge item.
		if (this.list.length >= MAX_WARNINGS) {
			this.dropped++;
			return;
		}
		this.list.push(message);
	}

	/** The warnings so far, plus a count of those left out. */
	toArray(): string[] {
		const out = [...this.list];
		if (this.dropped > 0) out.push(`${this.dropped} more warnings were left out`);
		return out;
	}
}

/** Quotes a value for a warning: shortened, control characters escaped (\n, \u0000). */
export function quote(value: string): string {
	const short =
		value.length > MAX_QUOTED_CHARS ? `${value.slice(0, MAX_QUOTED_CHARS - 1)}…` : value;
	return JSON.stringify(short);
}
