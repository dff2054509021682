/**
 * The item a message becomes (for the trigger, and for the action node's Get and Get Many):
 * its JSON fields, its binaries, and the options it is built with.
 */
import { Readable } from 'node:stream';

import type { AutomaticVerdict } from './automatic';
import type { EmailAddress, HeaderMap } from './headers';
import {
	DEFAULT_BINARY_PREFIX,
	DEFAULT_MAX_ATTACHMENT_BYTES,
	DEFAULT_PARSE_TIMEOUT_MS,
} from './limits';

/** What IMAP says about the message. */
export type MessageMeta = {
	uid: number;
	/** The folder's UIDVALIDITY, for the item; '' when not known (a message parsed on its own). */
	uidValidity?: string;
	folder: string;
	flags: string[];
	size: number;
};

/** How to build the item. */
export type ToItemOptions = {
	/** Return attachments as binaries (default true). Their metadata is always listed. */
	attachments?: boolean;
	/** Also return inline parts such as cid: images embedded in the HTML (default false). */
	includeInline?: boolean;
	/** Per-attachment cap in bytes; larger ones are left out with a warning (default 25 MiB). */
	maxAttachmentBytes?: number;
	/** Also return the whole message as the binary `raw` (`message.eml`) (default false). */
	includeRaw?: boolean;
	/** Prefix of attachment binary property names (default 'attachment_'). */
	binaryPrefix?: string;
	/** Time box for parsing; past it a headers-only item is returned (default 10 s). */
	parseTimeoutMs?: number;
	/** The inbox address, to recognise mail the inbox sent itself. */
	inbox?: string;
};

/** One attachment as listed in the item. */
export type AttachmentInfo = {
	/** The file name given by the sender (path and control characters removed) or generated. */
	filename: string;
	mimeType: string;
	/** Decoded size in bytes. */
	size: number;
	/** The binary property holding the content, or null when it was not included. */
	binaryProperty: string | null;
	/** Content-ID without angle brackets, or null. */
	contentId: string | null;
	/** True for a part embedded in the HTML body (a cid: image), not for ordinary attachments. */
	inline: boolean;
};

/** The JSON of one message as both nodes put it out (a trigger item, Message → Get). Every field is always present. */
export type MessageItem = {
	uid: number;
	/**
	 * The folder's UIDVALIDITY when the message was read: with `uid`, names this message for good
	 * (Message → Get trusts the UID only while the folder still has it). '' when not known.
	 */
	uidValidity: string;
	folder: string;
	/** With angle brackets. */
	messageId: string | null;
	inReplyTo: string | null;
	references: string[];
	from: EmailAddress | null;
	/** Groups are flattened into their members. */
	to: EmailAddress[];
	cc: EmailAddress[];
	replyTo: EmailAddress[];
	/** '' when there is none. */
	subject: string;
	/** ISO 8601, or null when the Date header is missing or unreadable. */
	date: string | null;
	/**
	 * The plain-text body ('' when none). When the message has only HTML, text derived from the
	 * HTML.
	 */
	text: string;
	html: string | null;
	/** The new text only: `text` without quoted history and signature, trimmed. */
	replyText: string;
	attachments: AttachmentInfo[];
	/** Top-level header fields, see {@link HeaderMap}. */
	headers: HeaderMap;
	flags: string[];
	size: number;
	/** What could not be parsed or was left out. */
	warnings: string[];
};

/**
 * One binary of an item. Its bytes stay in the pieces they were decoded in: joining them into
 * one Buffer would hold the file twice for a moment (10 MB more for a 10 MB attachment), and
 * n8n stores binary data from a stream as well as from a Buffer ({@link toN8nBinary}).
 */
export type MessageBinary = {
	/** The bytes, in order; empty for an empty file. */
	chunks: Buffer[];
	/** Total bytes of `chunks`. */
	size: number;
	fileName: string;
	mimeType: string;
};

/**
 * What n8n stores a binary from, in both nodes. A file in pieces goes as a stream of them: n8n's
 * filesystem mode writes it to disk piece by piece (its other modes join the pieces themselves),
 * where a Buffer joined here would hold a 10 MB attachment twice for a moment.
 */
export function toN8nBinary(file: MessageBinary): Buffer | Readable {
	if (file.chunks.length === 0) return Buffer.alloc(0);
	if (file.chunks.length === 1) return file.chunks[0];
	return Readable.from(file.chunks, { objectMode: false });
}

/** The bytes of a binary as one Buffer: the only piece itself, or a copy of the pieces joined. */
export function joinBinary(binary: MessageBinary): Buffer {
	return binary.chunks.length === 1 ? binary.chunks[0] : Buffer.concat(binary.chunks, binary.size);
}

/** A trigger item with its binaries and the automatic-mail verdict. */
export type ParsedMessage = {
	json: MessageItem;
	binaries: Record<string, MessageBinary>;
	automatic: AutomaticVerdict;
};

export type ResolvedOptions = {
	attachments: boolean;
	includeInline: boolean;
	maxAttachmentBytes: number;
	includeRaw: boolean;
	binaryPrefix: string;
	parseTimeoutMs: number;
	inbox: string | undefined;
};

export function resolveOptions(options: ToItemOptions): ResolvedOptions {
	const positive = (value: number | undefined, fallback: number): number =>
		typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : fallback;
	return {
		attachments: options.attachments ?? true,
		includeInline: options.includeInline ?? false,
		// 0 is a valid cap (leave every attachment out), unlike for the timeout.
		maxAttachmentBytes:
			typeof options.maxAttachmentBytes === 'number' &&
			Number.isFinite(options.maxAttachmentBytes) &&
			options.maxAttachmentBytes >= 0
				? options.maxAttachmentBytes
				: DEFAULT_MAX_ATTACHMENT_BYTES,
		includeRaw: options.includeRaw ?? false,
		binaryPrefix: options.binaryPrefix ?? DEFAULT_BINARY_PREFIX,
		parseTimeoutMs: positive(options.parseTimeoutMs, DEFAULT_PARSE_TIMEOUT_MS),
		inbox: options.inbox,
	};
}
