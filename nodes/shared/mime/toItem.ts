/**
 * Turns one raw message fetched over IMAP into one trigger item: JSON fields, attachments as
 * binaries, and a verdict on whether the message is automatic.
 *
 * Never throws and never hangs: malformed mail becomes an item with warnings, a parse that
 * takes too long becomes a headers-only item. The header fields come from a small reader of
 * our own (./headers), the body and attachments from mailparser's streaming parser.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';

import { MailParser, type AttachmentStream, type MessageText } from 'mailparser';

import { classifyAutomatic, type AutomaticVerdict } from './automatic';
import {
	fieldValues,
	findHeaderEnd,
	firstField,
	firstMessageId,
	messageIdList,
	parseAddresses,
	parseDate,
	parseHeaderBlock,
	toHeaderMap,
	type EmailAddress,
	type HeaderField,
	type HeaderMap,
} from './headers';
import {
	DEFAULT_BINARY_PREFIX,
	DEFAULT_MAX_ATTACHMENT_BYTES,
	DEFAULT_PARSE_TIMEOUT_MS,
	MAX_EXTENSION_CHARS,
	MAX_FILENAME_CHARS,
	MAX_HEADER_BLOCK_BYTES,
	MAX_HTML_TO_TEXT_CHARS,
	MAX_REPLY_SOURCE_CHARS,
	PARSE_CHUNK_BYTES,
	RAW_BINARY_PROPERTY,
} from './limits';
import { extractReply } from './replyText';
import { scanStructure } from './structure';
import { quote, Warnings } from './warnings';

export type { AutomaticVerdict } from './automatic';
export type { EmailAddress, HeaderMap } from './headers';

/** What IMAP says about the message. */
export type MessageMeta = { uid: number; folder: string; flags: string[]; size: number };

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

/** The JSON of a trigger item. Every field is always present. */
export type TriggerItem = {
	uid: number;
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
 * n8n stores binary data from a stream as well as from a Buffer. {@link joinBinary} joins them.
 */
export type MessageBinary = {
	/** The bytes, in order; empty for an empty file. */
	chunks: Buffer[];
	/** Total bytes of `chunks`. */
	size: number;
	fileName: string;
	mimeType: string;
};

/** The bytes of a binary as one Buffer: the only piece itself, or a copy of the pieces joined. */
export function joinBinary(binary: MessageBinary): Buffer {
	return binary.chunks.length === 1 ? binary.chunks[0] : Buffer.concat(binary.chunks, binary.size);
}

/** A trigger item with its binaries and the automatic-mail verdict. */
export type ParsedMessage = {
	json: TriggerItem;
	binaries: Record<string, MessageBinary>;
	automatic: AutomaticVerdict;
};

type ResolvedOptions = {
	attachments: boolean;
	includeInline: boolean;
	maxAttachmentBytes: number;
	includeRaw: boolean;
	binaryPrefix: string;
	parseTimeoutMs: number;
	inbox: string | undefined;
};

/** An attachment while mailparser streams it. */
type CollectedAttachment = {
	filename: string | undefined;
	mimeType: string;
	contentId: string | null;
	inline: boolean;
	/** Still collecting its bytes (wanted, and not over the cap so far). */
	keep: boolean;
	overCap: boolean;
	chunks: Buffer[];
	size: number;
};

type ParseOutcome =
	| { kind: 'done'; text: MessageText | null; attachments: CollectedAttachment[] }
	| { kind: 'timeout' }
	| { kind: 'error'; message: string };

const MAILPARSER_OPTIONS = {
	// Only text and html are used: no text→HTML rendering, no linkifying, no data: URIs for
	// cid images (which would copy every inline image into the HTML string), no checksums.
	skipTextToHtml: true,
	skipTextLinks: true,
	skipImageLinks: true,
	checksumAlgo: false as const,
	maxHtmlLengthToParse: MAX_HTML_TO_TEXT_CHARS,
};

const EXTENSIONS: Record<string, string> = {
	'application/gzip': 'gz',
	'application/json': 'json',
	'application/msword': 'doc',
	'application/octet-stream': 'bin',
	'application/pdf': 'pdf',
	'application/pgp-signature': 'asc',
	'application/pkcs7-signature': 'p7s',
	'application/rtf': 'rtf',
	'application/vnd.ms-excel': 'xls',
	'application/vnd.ms-powerpoint': 'ppt',
	'application/vnd.oasis.opendocument.text': 'odt',
	'application/vnd.openxmlformats-officedocument.presentationml.presentation': 'pptx',
	'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'xlsx',
	'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'docx',
	'application/x-pkcs7-signature': 'p7s',
	'application/xml': 'xml',
	'application/zip': 'zip',
	'audio/mpeg': 'mp3',
	'audio/ogg': 'ogg',
	'audio/wav': 'wav',
	'image/gif': 'gif',
	'image/jpeg': 'jpg',
	'image/png': 'png',
	'image/svg+xml': 'svg',
	'image/webp': 'webp',
	'message/delivery-status': 'txt',
	'message/rfc822': 'eml',
	'text/calendar': 'ics',
	'text/csv': 'csv',
	'text/html': 'html',
	'text/plain': 'txt',
	'text/xml': 'xml',
	'video/mp4': 'mp4',
};

/**
 * Parses a raw message into one trigger item. Never throws: malformed mail gives an item with
 * warnings; a parse that fails or exceeds `parseTimeoutMs` gives a headers-only item.
 *
 * @param raw the whole message as fetched (RFC822 / BODY[])
 * @param meta what IMAP reported for it
 */
export async function parseMessage(
	raw: Buffer,
	meta: MessageMeta,
	options: ToItemOptions = {},
): Promise<ParsedMessage> {
	const resolved = resolveOptions(options);
	try {
		return await parseWithin(raw, meta, resolved);
	} catch (error) {
		// Last line of defence: a bug here must still yield an item, never a crashed trigger.
		const reason = `the message could not be parsed: ${errorMessage(error)}`;
		return headersOnlyItem(raw, meta, reason, resolved.inbox);
	}
}

/**
 * Builds an item from the header block alone, for a message that is not parsed in full (over
 * the trigger's size cap), or when only headers were asked for (the action node's Headers
 * Only: `reason` null, no warning). `headerBytes` may be the header block or the start of the
 * message; reading stops at the first blank line. Text is '', attachments [], warnings
 * [reason, ...].
 */
export function headersOnlyItem(
	headerBytes: Buffer,
	meta: MessageMeta,
	reason: string | null,
	inbox?: string,
): ParsedMessage {
	const warnings = new Warnings();
	if (reason !== null) warnings.add(reason);
	try {
		const { fields } = readHeaders(headerBytes, warnings, false);
		const json = itemFromHeaders(fields, meta, warnings);
		json.warnings = warnings.toArray();
		return { json, binaries: {}, automatic: classifyAutomatic(json.headers, inbox) };
	} catch (error) {
		warnings.add(`the headers could not be read: ${errorMessage(error)}`);
		const json = itemFromHeaders([], meta, warnings);
		json.warnings = warnings.toArray();
		return { json, binaries: {}, automatic: { automatic: false, reason: null } };
	}
}

function resolveOptions(options: ToItemOptions): ResolvedOptions {
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

async function parseWithin(
	raw: Buffer,
	meta: MessageMeta,
	options: ResolvedOptions,
): Promise<ParsedMessage> {
	const deadline = Date.now() + options.parseTimeoutMs;
	const warnings = new Warnings();
	if (raw.length === 0) warnings.add('the message is empty');

	const { fields, bodyStart } = readHeaders(raw, warnings, true);
	const json = itemFromHeaders(fields, meta, warnings);
	const report = scanStructure(raw, fields, bodyStart, warnings);
	const binaries: Record<string, MessageBinary> = {};

	const outcome = await runMailParser(raw, options, deadline);
	if (outcome.kind === 'done') {
		await fillBody(json, outcome, options, deadline, warnings, binaries, report.textCharsets);
	} else if (outcome.kind === 'timeout') {
		warnings.add(
			`parsing took longer than ${options.parseTimeoutMs} ms: only the headers are given`,
		);
	} else {
		warnings.add(
			`the message body could not be parsed (${outcome.message}): only the headers are given`,
		);
	}

	if (options.includeRaw) {
		binaries[RAW_BINARY_PROPERTY] = {
			chunks: [raw],
			size: raw.length,
			fileName: 'message.eml',
			mimeType: 'message/rfc822',
		};
	}
	json.warnings = warnings.toArray();
	return { json, binaries, automatic: classifyAutomatic(json.headers, options.inbox) };
}

function readHeaders(
	raw: Buffer,
	warnings: Warnings,
	bodyExpected: boolean,
): { fields: HeaderField[]; bodyStart: number } {
	const bounds = findHeaderEnd(raw);
	if (bounds.truncated) {
		warnings.add(
			`the header block is longer than ${MAX_HEADER_BLOCK_BYTES} bytes: only its start was read`,
		);
	} else if (!bounds.separatorFound && raw.length > 0 && bodyExpected) {
		// Header bytes alone (headersOnlyItem) need not end with the blank line.
		warnings.add('the message has no blank line after its headers: it has no body');
	}
	const fields = parseHeaderBlock(raw.subarray(0, bounds.headerEnd), warnings);
	if (fields.length === 0 && raw.length > 0) warnings.add('no header fields were found');
	return { fields, bodyStart: bounds.bodyStart };
}

function itemFromHeaders(
	fields: HeaderField[],
	meta: MessageMeta,
	warnings: Warnings,
): TriggerItem {
	const rawValues = (name: string): string[] => fieldValues(fields, name, true);
	const dateField = firstField(fields, 'date');
	let date: string | null = null;
	if (dateField) {
		date = parseDate(dateField.value);
		if (date === null) warnings.add(`the Date header ${quote(dateField.value)} could not be read`);
	}
	const fromField = firstField(fields, 'from');
	const from = fromField ? (parseAddresses([fromField.raw])[0] ?? null) : null;
	if (fromField && !from)
		warnings.add(`the From header ${quote(fromField.value)} holds no address`);
	return {
		uid: meta.uid,
		folder: meta.folder,
		messageId: firstMessageId(firstField(fields, 'message-id')?.value),
		inReplyTo: firstMessageId(firstField(fields, 'in-reply-to')?.value),
		references: messageIdList(fieldValues(fields, 'references').join(' ')),
		from,
		to: parseAddresses(rawValues('to')),
		cc: parseAddresses(rawValues('cc')),
		replyTo: parseAddresses(rawValues('reply-to')),
		subject: firstField(fields, 'subject')?.value ?? '',
		date,
		text: '',
		html: null,
		replyText: '',
		attachments: [],
		headers: toHeaderMap(fields),
		flags: [...meta.flags],
		size: meta.size,
		warnings: [],
	};
}

/**
 * Runs mailparser over `raw` until it ends, fails, or the deadline passes. The message is fed
 * in slices with a turn of the event loop between them, so the deadline timer can always fire.
 */
function runMailParser(
	raw: Buffer,
	options: ResolvedOptions,
	deadline: number,
): Promise<ParseOutcome> {
	return new Promise<ParseOutcome>((resolve) => {
		const parser = new MailParser(MAILPARSER_OPTIONS);
		const attachments: CollectedAttachment[] = [];
		let text: MessageText | null = null;
		let settled = false;

		const finish = (outcome: ParseOutcome): void => {
			if (settled) return;
			settled = true;
			clearTimeout(timer);
			// Stop a parse that is abandoned so it frees its buffers and stops using the CPU.
			if (outcome.kind !== 'done') parser.destroy();
			resolve(outcome);
		};
		const timer = setTimeout(() => finish({ kind: 'timeout' }), Math.max(0, deadline - Date.now()));

		// Kept for the parser's whole life: errors after the outcome must not go unhandled.
		parser.on('error', (error: unknown) => finish({ kind: 'error', message: errorMessage(error) }));
		parser.on('data', (data: AttachmentStream | MessageText) => {
			if (settled) return;
			if (data.type === 'text') {
				text = data;
				return;
			}
			attachments.push(
				collectAttachment(data, options, (message) => finish({ kind: 'error', message })),
			);
		});
		parser.on('end', () => finish({ kind: 'done', text, attachments }));

		const feed = async (): Promise<void> => {
			for (let offset = 0; offset < raw.length; offset += PARSE_CHUNK_BYTES) {
				if (settled) return;
				// subarray: a view of the caller's buffer, not a copy.
				const accepted = parser.write(raw.subarray(offset, offset + PARSE_CHUNK_BYTES));
				if (accepted) await yieldToEventLoop();
				else await waitForDrain(parser);
			}
			if (!settled) parser.end();
		};
		feed().catch((error: unknown) => finish({ kind: 'error', message: errorMessage(error) }));
	});
}

function waitForDrain(parser: MailParser): Promise<void> {
	return new Promise<void>((resolve) => {
		const done = (): void => {
			parser.off('drain', done);
			parser.off('close', done);
			resolve();
		};
		parser.on('drain', done);
		// A destroyed parser never drains; 'close' releases the wait.
		parser.on('close', done);
	});
}

function collectAttachment(
	data: AttachmentStream,
	options: ResolvedOptions,
	fail: (message: string) => void,
): CollectedAttachment {
	const contentId = data.cid ? data.cid : null;
	// Embedded in the HTML: in multipart/related with a Content-ID, unless the sender said
	// "attachment". An inline-disposition part without a Content-ID (Apple Mail's photos between
	// text blocks) is something the user sent, so it counts as an attachment.
	const inline =
		Boolean(contentId) && data.related === true && data.contentDisposition !== 'attachment';
	const entry: CollectedAttachment = {
		filename: data.filename,
		mimeType: (data.contentType || 'application/octet-stream').toLowerCase(),
		contentId,
		inline,
		keep: options.attachments && (!inline || options.includeInline),
		overCap: false,
		chunks: [],
		size: 0,
	};
	data.content.on('data', (chunk: Buffer) => {
		entry.size += chunk.length;
		if (!entry.keep) return;
		if (entry.size > options.maxAttachmentBytes) {
			// Over the cap: drop what was kept and only count the rest.
			entry.keep = false;
			entry.overCap = true;
			entry.chunks = [];
			return;
		}
		entry.chunks.push(chunk);
	});
	data.content.on('end', () => data.release?.());
	data.content.on('error', (error: unknown) => fail(errorMessage(error)));
	return entry;
}

async function fillBody(
	json: TriggerItem,
	outcome: Extract<ParseOutcome, { kind: 'done' }>,
	options: ResolvedOptions,
	deadline: number,
	warnings: Warnings,
	binaries: Record<string, MessageBinary>,
	textCharsets: string[],
): Promise<void> {
	const html = outcome.text?.html ? outcome.text.html : null;
	let text = outcome.text?.text ?? '';
	if (outcome.text?.textConversionError) {
		warnings.add(
			`the HTML could not be turned into text: ${outcome.text.textConversionError.message}`,
		);
	}
	// mailparser derives text from HTML only for a message that is a single HTML part; do the
	// same for HTML-only multiparts (multipart/alternative or /related without text/plain).
	if (text.trim() === '' && html && !outcome.text?.textConversionError) {
		text = await htmlToText(html, deadline, warnings);
	}
	if ((text + (html ?? '')).includes('\uFFFD')) {
		const declared = textCharsets.length > 0 ? textCharsets.join(', ') : 'none declared';
		warnings.add(
			`the body contains bytes that are not valid in its charset (${declared}): they are shown as U+FFFD`,
		);
	}
	json.text = text;
	json.html = html;
	const reply = extractReply(text);
	json.replyText = reply.text;
	if (reply.failed) {
		warnings.add(`replyText could not be extracted (${reply.failed}): it holds the whole text`);
	}
	if (reply.truncated) {
		warnings.add(
			`replyText was taken from the first ${MAX_REPLY_SOURCE_CHARS} characters of the text`,
		);
	}

	let binaryIndex = 0;
	json.attachments = outcome.attachments.map((attachment, position) => {
		const filename = attachmentFileName(attachment, position, warnings);
		let binaryProperty: string | null = null;
		if (attachment.overCap) {
			warnings.add(
				`attachment ${quote(filename)} (${attachment.size} bytes) is larger than the ${options.maxAttachmentBytes}-byte limit and was left out`,
			);
		} else if (attachment.keep) {
			binaryProperty = `${options.binaryPrefix}${binaryIndex++}`;
			binaries[binaryProperty] = {
				// Handed on as they are: see MessageBinary.
				chunks: attachment.chunks,
				size: attachment.size,
				fileName: filename,
				mimeType: attachment.mimeType,
			};
			attachment.chunks = [];
		}
		return {
			filename,
			mimeType: attachment.mimeType,
			size: attachment.size,
			binaryProperty,
			contentId: attachment.contentId,
			inline: attachment.inline,
		};
	});
}

/** Text from HTML via mailparser's own converter: a one-part text/html message is parsed. */
async function htmlToText(html: string, deadline: number, warnings: Warnings): Promise<string> {
	const wrapped = Buffer.concat([
		Buffer.from(
			'Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n',
		),
		Buffer.from(html, 'utf8'),
	]);
	const outcome = await runMailParser(
		wrapped,
		{ ...resolveOptions({}), attachments: false },
		// At least a moment, so an HTML-only message parsed just within its time box still gets text.
		Math.max(deadline, Date.now() + 1),
	);
	if (outcome.kind === 'done' && !outcome.text?.textConversionError) {
		// html-to-text renders an embedded image as "[cid:...]", which means nothing in text.
		return (outcome.text?.text ?? '').replace(/\[cid:[^\]\s]*\]/g, '');
	}
	const why =
		outcome.kind === 'timeout'
			? 'it took too long'
			: outcome.kind === 'error'
				? outcome.message
				: (outcome.text?.textConversionError?.message ?? 'unknown reason');
	warnings.add(`the HTML could not be turned into text: ${why}`);
	return '';
}

/** The attachment's file name, made safe, or `attachment-N.<ext>` when it has none. */
/** Replaces each run of control characters (C0 and DEL) with one space. */
function withoutControlCharacters(text: string): string {
	let out = '';
	let inRun = false;
	for (const char of text) {
		const code = char.charCodeAt(0);
		const control = code < 0x20 || code === 0x7f;
		if (control && !inRun) out += ' ';
		else if (!control) out += char;
		inRun = control;
	}
	return out;
}

function attachmentFileName(
	attachment: CollectedAttachment,
	position: number,
	warnings: Warnings,
): string {
	const given = attachment.filename ?? '';
	let name = withoutControlCharacters(given);
	// Keep only the last path segment: "../../x.txt" must not escape a download folder.
	name = name.slice(Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\')) + 1).trim();
	if (/^\.+$/.test(name)) name = '';
	if (!name) name = `attachment-${position + 1}.${extensionFor(attachment.mimeType)}`;
	if (given && name !== given) {
		warnings.add(`attachment name ${quote(given)} was changed to ${quote(name)}`);
	}
	if (name.length > MAX_FILENAME_CHARS) {
		const dot = name.lastIndexOf('.');
		const ext = dot > 0 && name.length - dot <= MAX_EXTENSION_CHARS ? name.slice(dot) : '';
		name = name.slice(0, MAX_FILENAME_CHARS - ext.length) + ext;
		warnings.add(
			`attachment name ${quote(name)} was shortened to ${MAX_FILENAME_CHARS} characters`,
		);
	}
	return name;
}

function extensionFor(mimeType: string): string {
	const known = EXTENSIONS[mimeType];
	if (known) return known;
	const [top, sub = ''] = mimeType.split('/');
	// image/tiff → tiff: for media types the subtype is usually the extension.
	if (['image', 'audio', 'video'].includes(top) && /^[a-z0-9]{2,8}$/.test(sub)) return sub;
	return 'bin';
}

function errorMessage(error: unknown): string {
	if (error instanceof Error) return error.message;
	return String(error);
}
