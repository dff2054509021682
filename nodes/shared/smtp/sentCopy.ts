/**
 * Reading back what was just sent: the copy the server keeps in Sent, found so that the node
 * can output the Message-ID the recipients see and tell whether Send Once will recognise the
 * message on a retry. Some SMTP servers give each message a Message-ID of their own, drop
 * `X-` header fields, and store the Sent copy seconds after accepting it, or never.
 *
 * A copy is ours when it carries the Message-ID we wrote, or our send once hash, or, failing
 * both, when exactly one copy has the message's subject, Date, recipients and In-Reply-To
 * (what such servers keep). Two messages alike in all of those leave both unknown: a copy is
 * never taken for another message's.
 */
import type { FetchMessageObject, ImapFlow } from 'imapflow';

import { firstMessageId } from '../mime/headers';
import { sendOnceHashes, SEND_ONCE_FIELDS, sentFolder } from './sendOnce';

/**
 * How long the node waits for the Sent copies of what it sent: servers that store them late
 * do so within seconds of accepting the message, and a retry that starts before the copy is
 * there could not recognise it.
 */
export const SENT_COPY_WAIT_MS = 10_000;
/** Between two looks at Sent while copies are missing. */
const SENT_COPY_POLL_MS = 500;
/** Messages read beyond those sent: mail sent meanwhile by others can push ours down. */
const SENT_COPY_MARGIN = 50;

/** What is known of one message sent, to find its copy. */
export interface SentMessage {
	/** The Message-ID we wrote. */
	messageId: string;
	/** Its send once hash, when it has one. */
	hash?: string;
	subject: string;
	/** Its Date header (ms); null when it had none. */
	date: number | null;
	/** To and CC addresses. */
	recipients: string[];
	inReplyTo: string | null;
}

/** How a copy was recognised: by a mark we set (survives a retry's lookup) or its contents. */
export type CopyMatch = 'messageId' | 'hash' | 'contents';

/** One message's copy in Sent. */
export interface FoundCopy {
	uid: number;
	/** The Message-ID the copy (and so the recipients) carries. */
	messageId: string | null;
	by: CopyMatch;
}

/** What Sent showed of a batch just sent, by index into it. */
export interface ReadBack {
	folder: string;
	copies: Map<number, FoundCopy>;
}

/** How this server treats what the node sends, as the last read-back showed. */
export type SentBehaviour = 'keeps-message-id' | 'rewrites' | 'drops-marks' | 'no-copy';

/** By server and inbox: what read-backs in this process showed (one entry per inbox used). */
const behaviours = new Map<string, SentBehaviour>();

/** The key {@link behaviours} is kept under. */
export function serverKey(inbox: string, smtpHost: string, smtpPort: number): string {
	return `${inbox.toLowerCase()} ${smtpHost.toLowerCase()}:${smtpPort}`;
}

export function knownBehaviour(key: string): SentBehaviour | undefined {
	return behaviours.get(key);
}

export function rememberBehaviour(key: string, behaviour: SentBehaviour): void {
	behaviours.set(key, behaviour);
}

/** Lower case addresses, sorted, for comparing recipient lists. */
function addressKey(addresses: string[]): string {
	return [...new Set(addresses.map((a) => a.toLowerCase()))].sort().join(',');
}

/** What a copy's contents must equal for it to be taken as a message's. */
function contentsKey(
	subject: string,
	date: number | null,
	recipients: string[],
	inReplyTo: string | null,
): string {
	return JSON.stringify([subject, date, addressKey(recipients), inReplyTo ?? '']);
}

/** The parts of a fetched copy matching reads. */
export interface CopyHeaders {
	uid: number;
	messageId: string | null;
	hashes: string[];
	subject: string;
	date: number | null;
	recipients: string[];
	inReplyTo: string | null;
}

function copyHeaders(message: FetchMessageObject): CopyHeaders {
	const envelope = message.envelope;
	const date = envelope?.date ? new Date(envelope.date).getTime() : NaN;
	return {
		uid: message.uid,
		messageId: envelope?.messageId ?? null,
		hashes: sendOnceHashes(message.headers),
		subject: envelope?.subject ?? '',
		date: Number.isNaN(date) ? null : date,
		recipients: [...(envelope?.to ?? []), ...(envelope?.cc ?? [])]
			.map((address) => address.address ?? '')
			.filter(Boolean),
		inReplyTo: firstMessageId(envelope?.inReplyTo),
	};
}

/**
 * The copy of each sent message among `copies`, by index into `sent`. Marks first: a copy
 * with our Message-ID or hash is that message's. Then contents, only where exactly one sent
 * message and exactly one copy not claimed by a mark share them.
 */
export function matchCopies(sent: SentMessage[], copies: CopyHeaders[]): Map<number, FoundCopy> {
	const found = new Map<number, FoundCopy>();
	const claimed = new Set<number>();
	sent.forEach((message, index) => {
		// The newest copy when a message was stored twice.
		for (const copy of [...copies].reverse()) {
			const by: CopyMatch | null =
				copy.messageId === message.messageId
					? 'messageId'
					: message.hash && copy.hashes.includes(message.hash)
						? 'hash'
						: null;
			if (!by) continue;
			found.set(index, { uid: copy.uid, messageId: copy.messageId, by });
			claimed.add(copy.uid);
			break;
		}
	});
	const unclaimed = copies.filter((copy) => !claimed.has(copy.uid) && copy.hashes.length === 0);
	const copiesBy = groupBy(unclaimed, (c) =>
		contentsKey(c.subject, c.date, c.recipients, c.inReplyTo),
	);
	const sentBy = groupBy(
		sent.map((message, index) => ({ message, index })).filter(({ index }) => !found.has(index)),
		({ message: m }) => contentsKey(m.subject, m.date, m.recipients, m.inReplyTo),
	);
	for (const [key, messages] of sentBy) {
		const alike = copiesBy.get(key) ?? [];
		// Two alike on either side: which copy is whose cannot be told.
		if (messages.length !== 1 || alike.length !== 1) continue;
		found.set(messages[0].index, {
			uid: alike[0].uid,
			messageId: alike[0].messageId,
			by: 'contents',
		});
	}
	return found;
}

function groupBy<T>(values: T[], key: (value: T) => string): Map<string, T[]> {
	const groups = new Map<string, T[]>();
	for (const value of values) groups.set(key(value), [...(groups.get(key(value)) ?? []), value]);
	return groups;
}

/** The IMAP calls the read-back makes. */
export type ReadBackClient = Pick<ImapFlow, 'list' | 'mailboxOpen' | 'fetchAll'>;

/** Waits between looks; replaced in tests of the pure parts only. */
const pause = async (ms: number) => await new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Finds the Sent copies of `sent`, looking again every {@link SENT_COPY_POLL_MS} until each is
 * found or `waitMs` has passed. Reads the newest messages of Sent only (as many as were sent,
 * and {@link SENT_COPY_MARGIN} more), read-only.
 */
export async function readBackSent(
	client: ReadBackClient,
	sent: SentMessage[],
	waitMs = SENT_COPY_WAIT_MS,
): Promise<ReadBack> {
	const folder = await sentFolder(client);
	const deadline = Date.now() + waitMs;
	for (;;) {
		// EXAMINE again: it reports the messages stored since the last look.
		const { exists } = await client.mailboxOpen(folder, { readOnly: true });
		let copies: CopyHeaders[] = [];
		if (exists > 0) {
			const first = Math.max(1, exists - sent.length - SENT_COPY_MARGIN + 1);
			const fetched = await client.fetchAll(`${first}:*`, {
				uid: true,
				envelope: true,
				headers: SEND_ONCE_FIELDS,
			});
			copies = fetched.map(copyHeaders);
		}
		const found = matchCopies(sent, copies);
		if (found.size === sent.length || Date.now() >= deadline) return { folder, copies: found };
		await pause(SENT_COPY_POLL_MS);
	}
}

/**
 * What the read-back says of the server: it keeps our Message-ID, replaces it (a send once
 * message keeping a mark Send Once finds), keeps no mark of a send once message (its copy was
 * known by its contents only), or stored no copy. Undefined when nothing was sent.
 */
export function behaviourOf(sent: SentMessage[], readBack: ReadBack): SentBehaviour | undefined {
	if (sent.length === 0) return undefined;
	if (readBack.copies.size === 0) return 'no-copy';
	const copies = [...readBack.copies.entries()];
	if (copies.some(([index, copy]) => copy.by === 'contents' && sent[index].hash)) {
		return 'drops-marks';
	}
	if (copies.every(([, copy]) => copy.by === 'messageId')) return 'keeps-message-id';
	return 'rewrites';
}
