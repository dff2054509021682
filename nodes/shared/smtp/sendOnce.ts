/**
 * Send once: a message whose identity comes from a key (the received message it answers, an
 * order number) rather than chance, so that a retried execution can tell what already went
 * out. SMTP has no idempotency key; the inbox's Sent folder is the record. Each such message
 * gets a Message-ID derived from the key and a header carrying the same hash, and before a
 * batch is sent one IMAP search (per {@link SEARCH_CHUNK} messages) finds those already in
 * Sent: either mark counts, so a server that rewrites Message-IDs is still caught.
 */
import { createHash } from 'node:crypto';

import type { ImapFlow, SearchObject } from 'imapflow';

/** The header that carries the key's hash (lower case, as IMAP SEARCH HEADER takes it). */
export const SEND_ONCE_HEADER = 'x-agentmail-send-once';
/** Messages looked up per SEARCH: two criteria each keeps one command well under a few kB. */
export const SEARCH_CHUNK = 25;
/** Hex characters of the hash kept: 160 bits, no collision between keys in practice. */
const HASH_CHARS = 40;
/** Where AgentMail keeps what the inbox sent, when LIST marks no folder \Sent. */
export const DEFAULT_SENT_FOLDER = 'Sent';

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
	const folders = await client.list();
	return folders.find((folder) => folder.specialUse === '\\Sent')?.path ?? DEFAULT_SENT_FOLDER;
}

/**
 * Which of `identities` already have a copy in the Sent folder, by hash. Read-only (EXAMINE):
 * nothing this does changes a flag.
 */
export async function findSent(
	client: SentLookupClient,
	identities: SendOnceIdentity[],
): Promise<Map<string, SentCopy>> {
	const found = new Map<string, SentCopy>();
	if (identities.length === 0) return found;
	const folder = await sentFolder(client);
	await client.mailboxOpen(folder, { readOnly: true });
	for (let start = 0; start < identities.length; start += SEARCH_CHUNK) {
		const chunk = identities.slice(start, start + SEARCH_CHUNK);
		const criteria = chunk.flatMap((identity): SearchObject[] => [
			{ header: { 'message-id': identity.messageId } },
			{ header: { [SEND_ONCE_HEADER]: identity.hash } },
		]);
		const uids = await client.search({ or: criteria }, { uid: true });
		if (!uids || uids.length === 0) continue;
		const copies = await client.fetchAll(
			uids.join(','),
			{ uid: true, envelope: true, internalDate: true, headers: [SEND_ONCE_HEADER] },
			{ uid: true },
		);
		for (const copy of copies) {
			const hash = headerValue(copy.headers, SEND_ONCE_HEADER);
			const messageId = copy.envelope?.messageId ?? null;
			// HEADER search matches substrings: keep only exact matches.
			const identity = chunk.find((i) => i.hash === hash || i.messageId === messageId);
			if (!identity || found.has(identity.hash)) continue;
			found.set(identity.hash, {
				uid: copy.uid,
				folder,
				messageId,
				subject: copy.envelope?.subject ?? '',
				date: copy.internalDate ? new Date(copy.internalDate).toISOString() : null,
				to: (copy.envelope?.to ?? []).map((address) => address.address ?? '').filter(Boolean),
			});
		}
	}
	return found;
}

/** One header's value from a fetched header block, unfolded; '' when absent. */
function headerValue(block: Buffer | undefined, name: string): string {
	if (!block) return '';
	const text = block.toString('latin1').replace(/\r?\n[ \t]+/g, ' ');
	const line = text.split(/\r?\n/).find((l) => l.toLowerCase().startsWith(`${name}:`));
	return line ? line.slice(name.length + 1).trim() : '';
}
