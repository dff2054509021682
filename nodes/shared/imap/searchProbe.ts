/**
 * What a server does with the search keys the package relies on though no capability announces
 * them: HEADER (Send Once, Thread → Get, Get Many's header filters), BODY (Get Many's Body
 * Contains) and TEXT. Each key is asked, read-only, in one folder: for a value no message holds,
 * and, when the folder has a message with a Message-ID, for that Message-ID. A server that
 * searches answers nothing to the first and the message to the second; one that lacks the key
 * refuses it (BAD) or ignores it and answers with more than matches, which ./searchCheck's
 * keepMatching tells, as Get Many does.
 */
import { randomUUID } from 'node:crypto';

import type { SearchObject } from 'imapflow';

import type { InboxClient } from './inbox';
import { keepMatching } from './searchCheck';

/**
 * What the server did with a key: searched with it, refused it, ignored it (answered with
 * messages that do not match), answered without finding a message that matches, or could not be
 * told (an empty folder answers nothing either way).
 */
export type SearchSupport = 'answered' | 'refused' | 'ignored' | 'misses' | 'untested';

/** The keys probed, as IMAP names them. */
export const PROBED_KEYS = ['HEADER', 'BODY', 'TEXT'] as const;
export type ProbedKey = (typeof PROBED_KEYS)[number];

/** The probe of one folder. */
export interface SearchProbe {
	folder: string;
	/** Messages in the folder when it was probed. */
	messages: number;
	keys: Record<ProbedKey, SearchSupport>;
}

/** The search for `value` with `key` alone. */
function query(key: ProbedKey, value: string): SearchObject {
	if (key === 'HEADER') return { header: { 'message-id': value } };
	return key === 'BODY' ? { body: value } : { text: value };
}

/** The UIDs found, or null when the server refused the search. */
async function search(inbox: InboxClient, q: SearchObject): Promise<number[] | null> {
	const found = await inbox.imap.search(q, { uid: true });
	return Array.isArray(found) ? found : null;
}

/** One key: for a value nothing holds, then for the newest message's own Message-ID. */
async function probeKey(
	inbox: InboxClient,
	key: ProbedKey,
	messages: number,
	newest: { uid: number; messageId: string } | undefined,
): Promise<SearchSupport> {
	// A value no message can hold: a server that searches finds nothing.
	const absent = await search(inbox, query(key, `agentmail-probe-${randomUUID()}`));
	if (absent === null) return 'refused';
	if (absent.length > 0) return 'ignored';
	if (messages === 0) return 'untested';
	// BODY cannot be checked from the headers, and the newest message may have no Message-ID.
	if (key === 'BODY' || !newest) return 'answered';
	const q = query(key, newest.messageId);
	const found = await search(inbox, q);
	if (found === null) return 'refused';
	if (!found.includes(newest.uid)) return 'misses';
	if (key === 'HEADER' && (await keepMatching(inbox, found, q)).length < found.length) {
		return 'ignored';
	}
	return 'answered';
}

/** Probes HEADER, BODY and TEXT search in `folder`; changes nothing (the folder is examined). */
export async function probeSearch(inbox: InboxClient, folder: string): Promise<SearchProbe> {
	const selected = await inbox.select(folder);
	let newest: { uid: number; messageId: string } | undefined;
	if (selected.exists > 0) {
		const message = await inbox.imap.fetchOne('*', { uid: true, envelope: true });
		const messageId = message ? message.envelope?.messageId : undefined;
		if (message && messageId) newest = { uid: message.uid, messageId };
	}
	const keys = {} as Record<ProbedKey, SearchSupport>;
	for (const key of PROBED_KEYS) keys[key] = await probeKey(inbox, key, selected.exists, newest);
	return { folder: selected.path, messages: selected.exists, keys };
}
