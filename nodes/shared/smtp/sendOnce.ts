/**
 * Send once: a message whose identity comes from a key (the received message it answers, an
 * order number) rather than chance, so that a retried execution can tell what already went
 * out. SMTP has no idempotency key; the inbox's Sent folder is the record. Each such message
 * gets a Message-ID derived from the key and two headers carrying the same hash (one with the
 * `X-` prefix, one without, as a server that drops `X-` fields may keep the other), and before
 * a batch is sent one IMAP search (per {@link SEARCH_CHUNK} messages) finds those already in
 * Sent: any mark counts, so a server that rewrites Message-IDs is still caught.
 *
 * A server without HEADER search (it refuses it, or ignores the key and returns everything)
 * is checked another way: the headers of the newest {@link RECENT_SENT_SCANNED} messages of
 * Sent are read and matched here. A copy older than those is not seen; the lookup says so.
 */
import { createHash } from 'node:crypto';

import type { FetchMessageObject, ImapFlow, SearchObject } from 'imapflow';

import { findSpecialFolder } from '../imap/inbox';
import { fieldValues, parseHeaderBlock } from '../mime/headers';

/** The header that carries the key's hash, as written on the wire. */
export const SEND_ONCE_HEADER = 'X-AgentMail-Send-Once';
/**
 * The same hash without the `X-` prefix (RFC 6648 retired it): servers that strip `X-` fields
 * from what they relay (some do, to hide a client's internals) tend to keep other ones.
 */
export const SEND_ONCE_MARK = 'AgentMail-Send-Once';
/** Both names in lower case, as the lookup searches, fetches and reads them. */
export const SEND_ONCE_FIELDS = [SEND_ONCE_HEADER.toLowerCase(), SEND_ONCE_MARK.toLowerCase()];
/** Messages looked up per SEARCH: three criteria each keeps one command well under a few kB. */
export const SEARCH_CHUNK = 25;
/** Hex characters of the hash kept: 160 bits, no collision between keys in practice. */
const HASH_CHARS = 40;
/** Where AgentMail keeps what the inbox sent, when LIST marks no folder \Sent. */
const DEFAULT_SENT_FOLDER = 'Sent';
/**
 * Messages of Sent whose headers are read when the server cannot search them: a few hundred
 * kB, read in about a second, and a retry follows the send it repeats closely enough that its
 * copy is among the newest.
 */
export const RECENT_SENT_SCANNED = 500;
/**
 * Hits per key past which a search is taken as ignored by the server (it answered with the
 * folder, not the matches): a copy is found once, or a few times when saved more than once.
 */
export const MAX_HITS_PER_KEY = 4;

/**
 * How Sent was checked: the server's HEADER search, or the headers of its newest
 * {@link RECENT_SENT_SCANNED} messages read here.
 */
export type SendOnceCheck = 'server-search' | 'recent-headers';

/** What a lookup found, and how far it can be trusted. */
export interface SentLookup {
	/** Copies found, by hash. */
	found: Map<string, SentCopy>;
	check: SendOnceCheck;
	/** The Sent folder's path. */
	folder: string;
	/** Messages in Sent the check did not read (older than the newest it read); 0 when searched. */
	unchecked: number;
}

/** The identity of a message sent once. */
export interface SendOnceIdentity {
	/** `<once.HASH@inbox-domain>`, the message's Message-ID. */
	messageId: string;
	/** HASH, the value of {@link SEND_ONCE_HEADER}. */
	hash: string;
}

/** A copy found in Sent. */
export interface SentCopy {
	uid: number;
	folder: string;
	messageId: string | null;
	subject: string;
	/** When the server stored it, ISO 8601. */
	date: string | null;
	to: string[];
}

/** Connections whose server cannot run the lookup's HEADER search: it is not asked again. */
const searchUnusable = new WeakSet<object>();

/** The IMAP calls the lookup makes (a narrow seam for tests). */
export type SentLookupClient = Pick<ImapFlow, 'list' | 'mailboxOpen' | 'search' | 'fetchAll'>;

/**
 * The identity of the message sent for `key` from `inbox`; `scope` keeps apart two nodes that
 * send for the same key on purpose (a reply to the sender and another to a colleague).
 */
export function sendOnceIdentity(inbox: string, scope: string, key: string): SendOnceIdentity {
	const hash = createHash('sha256')
		.update(`${inbox.toLowerCase()}\n${scope}\n${key}`)
		.digest('hex')
		.slice(0, HASH_CHARS);
	return { messageId: `<once.${hash}@${inbox.split('@')[1].toLowerCase()}>`, hash };
}

/** The inbox's Sent folder: the one LIST marks \Sent, else AgentMail's name for it. */
export async function sentFolder(client: Pick<ImapFlow, 'list'>): Promise<string> {
	return (
		findSpecialFolder(await client.list(), '\\Sent', DEFAULT_SENT_FOLDER) ?? DEFAULT_SENT_FOLDER
	);
}

/**
 * Which of `identities` already have a copy in the Sent folder, by hash. Read-only (EXAMINE):
 * nothing this does changes a flag. See {@link lookupSent} for how the check was made.
 */
export async function findSent(
	client: SentLookupClient,
	identities: SendOnceIdentity[],
): Promise<Map<string, SentCopy>> {
	return (await lookupSent(client, identities)).found;
}

/** The fields fetched of each candidate copy. */
const COPY_FIELDS = { uid: true, envelope: true, internalDate: true, headers: SEND_ONCE_FIELDS };

/**
 * Which of `identities` already have a copy in Sent, and how that was checked. Read-only.
 * Copies are always matched here, exactly (Message-ID or hash): a server whose search matches
 * substrings or ignores keys can make the lookup read more, never find a copy that is not there.
 */
export async function lookupSent(
	client: SentLookupClient,
	identities: SendOnceIdentity[],
	/** {@link RECENT_SENT_SCANNED} but for tests. */
	recentLimit = RECENT_SENT_SCANNED,
): Promise<SentLookup> {
	const found = new Map<string, SentCopy>();
	if (identities.length === 0) return { found, check: 'server-search', folder: '', unchecked: 0 };
	const folder = await sentFolder(client);
	const mailbox = await client.mailboxOpen(folder, { readOnly: true });
	const match = (copies: FetchMessageObject[], among: SendOnceIdentity[]) => {
		for (const copy of copies) {
			const hashes = sendOnceHashes(copy.headers);
			const messageId = copy.envelope?.messageId ?? null;
			const identity = among.find((i) => hashes.includes(i.hash) || i.messageId === messageId);
			if (!identity || found.has(identity.hash)) continue;
			found.set(identity.hash, sentCopy(copy, folder, messageId));
		}
	};
	// Identities the server's search could not settle: looked for in the newest headers instead.
	const unsettled: SendOnceIdentity[] = [];
	for (let start = 0; start < identities.length; start += SEARCH_CHUNK) {
		const chunk = identities.slice(start, start + SEARCH_CHUNK);
		if (searchUnusable.has(client)) {
			unsettled.push(...chunk);
			continue;
		}
		const criteria = chunk.flatMap((identity): SearchObject[] => [
			{ header: { 'message-id': identity.messageId } },
			...SEND_ONCE_FIELDS.map((field) => ({ header: { [field]: identity.hash } })),
		]);
		const uids = await client.search({ or: criteria }, { uid: true });
		// false: the server refused HEADER; too many hits: it ignored the keys.
		if (!uids || uids.length > chunk.length * MAX_HITS_PER_KEY) {
			searchUnusable.add(client);
			unsettled.push(...chunk);
			continue;
		}
		if (uids.length === 0) continue;
		// HEADER search matches substrings: match() keeps only exact matches.
		match(await client.fetchAll(uids.join(','), COPY_FIELDS, { uid: true }), chunk);
	}
	if (unsettled.length === 0) return { found, check: 'server-search', folder, unchecked: 0 };
	const exists = mailbox.exists ?? 0;
	if (exists > 0) {
		const first = Math.max(1, exists - recentLimit + 1);
		match(await client.fetchAll(`${first}:*`, COPY_FIELDS), unsettled);
	}
	return {
		found,
		check: 'recent-headers',
		folder,
		unchecked: Math.max(0, exists - recentLimit),
	};
}

function sentCopy(copy: FetchMessageObject, folder: string, messageId: string | null): SentCopy {
	return {
		uid: copy.uid,
		folder,
		messageId,
		subject: copy.envelope?.subject ?? '',
		date: copy.internalDate ? new Date(copy.internalDate).toISOString() : null,
		to: (copy.envelope?.to ?? []).map((address) => address.address ?? '').filter(Boolean),
	};
}

/** The send once hashes a fetched header block carries, under either name. */
export function sendOnceHashes(block: Buffer | undefined): string[] {
	if (!block) return [];
	const fields = parseHeaderBlock(block);
	return SEND_ONCE_FIELDS.flatMap((name) => fieldValues(fields, name));
}
