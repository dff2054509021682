/**
 * The conversation a message belongs to: every message of the given folders linked to it by
 * Message-ID, In-Reply-To or References, found with server-side HEADER searches repeated to a
 * fixed point (each round searches for the ids the last round discovered), bounded in rounds
 * and messages. Only the threading headers are fetched here; ../imap/messages.ts reads the
 * messages chosen.
 */
import type { FetchMessageObject, SearchObject } from 'imapflow';

import {
	fieldValues,
	firstMessageId,
	messageIdList,
	parseDate,
	parseHeaderBlock,
} from '../mime/headers';
import type { InboxClient } from './inbox';

/** Each round follows the thread one more step; a real conversation is settled in 2 or 3. */
const MAX_THREAD_ROUNDS = 10;
/** The most messages a thread is searched for: past it the search stops, marked incomplete. */
const MAX_THREAD_MESSAGES = 1_000;
/** Ids per SEARCH: three HEADER criteria each keeps a command to a few kB. */
const IDS_PER_SEARCH = 20;
/**
 * Messages per folder whose threading headers are read when the server cannot search them,
 * and the most a round reads in a folder through searches: about 300 kB of headers, and a
 * conversation that is being answered is among the newest mail.
 */
export const RECENT_THREAD_SCANNED = 1_000;
/** The headers the search reads of each message found. */
const THREAD_HEADERS = ['message-id', 'in-reply-to', 'references', 'date'];

/** What is known of the message whose thread is wanted. */
export interface ThreadSeed {
	messageId: string;
	inReplyTo?: string | null;
	references?: string[];
}

/** One message of the thread, where it is and how it links. */
export interface ThreadMember {
	folder: string;
	uid: number;
	messageId: string | null;
	inReplyTo: string | null;
	references: string[];
	/** When the server stored it (ms), the order's first key: one clock for every message. */
	storedAt: number | null;
	/** The Date header (ms): the order when the server gave no internal date. */
	sentAt: number | null;
}

export interface FoundThread {
	/** Oldest first; one per Message-ID across folders (the first folder's copy). */
	members: ThreadMember[];
	/** False when a bound stopped the search before its fixed point. */
	complete: boolean;
}

/** How deep in its thread a message says it is: the reply to a reply has two references. */
function depth(member: ThreadMember): number {
	return member.references.length || (member.inReplyTo ? 1 : 0);
}

/** Oldest first: stored time, then Date header, then depth in the thread, then folder and UID. */
function threadOrder(folders: string[]) {
	return (a: ThreadMember, b: ThreadMember): number =>
		(a.storedAt ?? a.sentAt ?? 0) - (b.storedAt ?? b.sentAt ?? 0) ||
		(a.sentAt ?? 0) - (b.sentAt ?? 0) ||
		depth(a) - depth(b) ||
		folders.indexOf(a.folder) - folders.indexOf(b.folder) ||
		a.uid - b.uid;
}

/**
 * The members in thread order: a message after every member it answers or references (the
 * References chain), else by {@link threadOrder}. The chain comes first because a copy can be
 * stored long after it was sent: a server that puts the Sent copy in place late would
 * otherwise list our reply after the answer to it. A chain that loops (a broken header) is
 * cut where it loops, the earliest remaining member going first.
 */
export function orderThread(members: ThreadMember[], folders: string[]): ThreadMember[] {
	const remaining = [...members].sort(threadOrder(folders));
	const present = new Set(remaining.map((m) => m.messageId).filter((id) => id !== null));
	const placed = new Set<string>();
	// The members each one links back to, in this thread.
	const parents = (m: ThreadMember) =>
		[m.inReplyTo, ...m.references].filter(
			(id): id is string => id !== null && id !== m.messageId && present.has(id),
		);
	const ordered: ThreadMember[] = [];
	while (remaining.length > 0) {
		const ready = remaining.findIndex((m) => parents(m).every((id) => placed.has(id)));
		const [next] = remaining.splice(Math.max(ready, 0), 1);
		ordered.push(next);
		if (next.messageId) placed.add(next.messageId);
	}
	return ordered;
}

function criteria(ids: string[]): SearchObject {
	return {
		or: ids.flatMap((id): SearchObject[] => [
			{ header: { 'message-id': id } },
			{ header: { 'in-reply-to': id } },
			{ header: { references: id } },
		]),
	};
}

function member(folder: string, message: FetchMessageObject): ThreadMember {
	const fields = parseHeaderBlock(message.headers ?? Buffer.alloc(0));
	const date = fieldValues(fields, 'date')[0];
	const sent = date ? parseDate(date) : null;
	return {
		folder,
		uid: message.uid,
		messageId: firstMessageId(fieldValues(fields, 'message-id')[0]),
		inReplyTo: firstMessageId(fieldValues(fields, 'in-reply-to')[0]),
		references: messageIdList(fieldValues(fields, 'references').join(' ')),
		storedAt: message.internalDate ? new Date(message.internalDate).getTime() : null,
		sentAt: sent ? Date.parse(sent) : null,
	};
}

/** Every id a message links to, itself included. */
function linkedIds(found: ThreadMember): string[] {
	return [found.messageId, found.inReplyTo, ...found.references].filter(
		(id): id is string => id !== null,
	);
}

/** Whether a message links to one of `ids`. */
function linksTo(found: ThreadMember, ids: Set<string>): boolean {
	return linkedIds(found).some((id) => ids.has(id));
}

/** The threading headers of a folder's newest `limit` messages; `cut` when it holds more. */
async function scanFolder(
	inbox: InboxClient,
	folder: string,
	limit: number,
): Promise<{ members: ThreadMember[]; cut: boolean }> {
	const selected = await inbox.select(folder);
	if (selected.exists === 0) return { members: [], cut: false };
	const first = Math.max(1, selected.exists - limit + 1);
	const fetched = await inbox.imap.fetchAll(`${first}:*`, {
		uid: true,
		internalDate: true,
		headers: THREAD_HEADERS,
	});
	return { members: fetched.map((message) => member(folder, message)), cut: first > 1 };
}

/**
 * The thread of `seed` in `folders` (paths as the server names them), oldest first.
 * `scanLimit` is {@link RECENT_THREAD_SCANNED} but for tests.
 */
export async function findThread(
	inbox: InboxClient,
	seed: ThreadSeed,
	folders: string[],
	scanLimit = RECENT_THREAD_SCANNED,
): Promise<FoundThread> {
	const known = new Set<string>([
		seed.messageId,
		...(seed.inReplyTo ? [seed.inReplyTo] : []),
		...(seed.references ?? []),
	]);
	const searched = new Set<string>();
	// By Message-ID (or folder:uid for a message without one): the first copy found is kept.
	const members = new Map<string, ThreadMember>();
	// UIDs already taken, per folder, so that no message is fetched twice.
	const taken = new Map<string, Set<number>>(folders.map((f) => [f, new Set<number>()]));
	// Folders read by scanning instead of searching, with what the scan read.
	const scans = new Map<string, { members: ThreadMember[]; cut: boolean }>();
	const result = (complete: boolean): FoundThread => ({
		members: orderThread([...members.values()], folders),
		// A scan that could not read a whole folder may have missed older messages of the thread.
		complete: complete && ![...scans.values()].some((scan) => scan.cut),
	});
	/** The messages of `folder` not taken yet that link to one of `ids`. */
	const candidates = async (
		folder: string,
		ids: Set<string>,
		budget: { left: number },
	): Promise<ThreadMember[]> => {
		const seen = taken.get(folder)!;
		const scanned = scans.get(folder);
		if (scanned) return scanned.members.filter((m) => !seen.has(m.uid) && linksTo(m, ids));
		const uids = await inbox.imap.search(criteria([...ids]), { uid: true });
		const fresh = Array.isArray(uids) ? uids.filter((uid) => !seen.has(uid)) : [];
		// Refused (false), or more than the round may read: the server ignored the keys.
		if (!Array.isArray(uids) || fresh.length > budget.left) {
			scans.set(folder, await scanFolder(inbox, folder, scanLimit));
			return await candidates(folder, ids, budget);
		}
		budget.left -= fresh.length;
		if (fresh.length === 0) return [];
		const fetched = await inbox.imap.fetchAll(
			fresh.join(','),
			{ uid: true, internalDate: true, headers: THREAD_HEADERS },
			{ uid: true },
		);
		// HEADER search matches substrings: keep only messages that really link to an id.
		return fetched.map((message) => member(folder, message)).filter((m) => linksTo(m, ids));
	};
	for (let round = 0; ; round++) {
		const fresh = [...known].filter((id) => !searched.has(id));
		if (fresh.length === 0) return result(true);
		if (round === MAX_THREAD_ROUNDS) return result(false);
		for (const id of fresh) searched.add(id);
		for (const folder of folders) {
			await inbox.select(folder);
			const budget = { left: scanLimit };
			for (let start = 0; start < fresh.length; start += IDS_PER_SEARCH) {
				const ids = new Set(fresh.slice(start, start + IDS_PER_SEARCH));
				for (const found of await candidates(folder, ids, budget)) {
					taken.get(folder)!.add(found.uid);
					const key = found.messageId ?? `${folder}:${found.uid}`;
					if (!members.has(key)) members.set(key, found);
					for (const id of linkedIds(found)) known.add(id);
					if (members.size >= MAX_THREAD_MESSAGES) return result(false);
				}
			}
		}
	}
}
