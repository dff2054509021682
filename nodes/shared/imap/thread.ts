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
import { ImapError } from './connect';
import type { InboxClient } from './inbox';

/** Each round follows the thread one more step; a real conversation is settled in 2 or 3. */
export const MAX_THREAD_ROUNDS = 10;
/** The most messages a thread is searched for: past it the search stops, marked incomplete. */
export const MAX_THREAD_MESSAGES = 1_000;
/** Ids per SEARCH: three HEADER criteria each keeps a command to a few kB. */
export const IDS_PER_SEARCH = 20;
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
export function threadOrder(folders: string[]) {
	return (a: ThreadMember, b: ThreadMember): number =>
		(a.storedAt ?? a.sentAt ?? 0) - (b.storedAt ?? b.sentAt ?? 0) ||
		(a.sentAt ?? 0) - (b.sentAt ?? 0) ||
		depth(a) - depth(b) ||
		folders.indexOf(a.folder) - folders.indexOf(b.folder) ||
		a.uid - b.uid;
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

/**
 * The thread of `seed` in `folders` (paths as the server names them), oldest first.
 *
 * @throws ImapError when the server refuses a HEADER search.
 */
export async function findThread(
	inbox: InboxClient,
	seed: ThreadSeed,
	folders: string[],
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
	const result = (complete: boolean): FoundThread => ({
		members: [...members.values()].sort(threadOrder(folders)),
		complete,
	});
	for (let round = 0; ; round++) {
		const fresh = [...known].filter((id) => !searched.has(id));
		if (fresh.length === 0) return result(true);
		if (round === MAX_THREAD_ROUNDS) return result(false);
		for (const id of fresh) searched.add(id);
		for (const folder of folders) {
			await inbox.select(folder);
			for (let start = 0; start < fresh.length; start += IDS_PER_SEARCH) {
				const ids = new Set(fresh.slice(start, start + IDS_PER_SEARCH));
				const uids = await inbox.imap.search(criteria([...ids]), { uid: true });
				if (!Array.isArray(uids)) {
					throw new ImapError(
						`${inbox.address} refused to search "${folder}" for the thread's headers (Message-ID, In-Reply-To, References): its IMAP server does not support HEADER searches, so the thread cannot be found. Read the messages with Message → Get Many instead.`,
					);
				}
				const seen = taken.get(folder)!;
				const fetchUids = uids.filter((uid) => !seen.has(uid));
				if (fetchUids.length === 0) continue;
				const fetched = await inbox.imap.fetchAll(
					fetchUids.join(','),
					{ uid: true, internalDate: true, headers: THREAD_HEADERS },
					{ uid: true },
				);
				for (const message of fetched) {
					const found = member(folder, message);
					// HEADER search matches substrings: keep only messages that really link to an id.
					if (!linkedIds(found).some((id) => ids.has(id))) continue;
					seen.add(found.uid);
					const key = found.messageId ?? `${folder}:${found.uid}`;
					if (!members.has(key)) members.set(key, found);
					for (const id of linkedIds(found)) known.add(id);
					if (members.size >= MAX_THREAD_MESSAGES) return result(false);
				}
			}
		}
	}
}
