/**
 * Which messages start a run: the user's sender / subject / unread filters and the
 * automatic-mail guard.
 */
import type { ParsedMessage } from '../../shared/mime/item';

export interface TriggerFilters {
	/** Comma-separated addresses or @domains; empty = anyone. */
	senders?: string;
	/** Text the subject must contain (case-insensitive); empty = any subject. */
	subjectContains?: string;
	/** Skip messages that are already read when they are found. */
	unreadOnly?: boolean;
	/** Skip mail from the inbox itself, auto-replies, bulk/list mail and bounces. */
	ignoreAutomatic?: boolean;
}

/** Why a message does not start a run, or null when it does. */
export function skipReason(message: ParsedMessage, filters: TriggerFilters): string | null {
	const { json } = message;
	if (filters.ignoreAutomatic !== false && message.automatic.automatic) {
		return `automatic mail (${message.automatic.reason ?? 'auto'})`;
	}
	if (filters.unreadOnly && json.flags.includes('\\Seen')) return 'already read';
	const senders = (filters.senders ?? '')
		.split(',')
		.map((s) => s.trim().toLowerCase())
		.filter(Boolean);
	if (senders.length) {
		const from = json.from?.address.toLowerCase() ?? '';
		// "@example.com" matches the whole domain; anything else is a full address.
		const match = senders.some((s) => (s.startsWith('@') ? from.endsWith(s) : from === s));
		if (!match) return 'sender not in the filter';
	}
	const subject = (filters.subjectContains ?? '').trim().toLowerCase();
	if (subject && !json.subject.toLowerCase().includes(subject)) return 'subject does not match';
	return null;
}
