/**
 * A small, synchronous reader for a MIME header block: finds where the headers end, unfolds
 * and decodes the fields (raw UTF-8, RFC 2047 encoded words), and reads the values the trigger
 * item needs (Message-IDs, dates, addresses, Content-Type parameters).
 *
 * It exists beside mailparser because the trigger must be able to describe a message from its
 * header bytes alone (messages over the size cap, parses that time out), without the body.
 */
import { TextDecoder } from 'node:util';

import { parseAddressHeader } from 'mailparser';

import { MAX_HEADER_BLOCK_BYTES, MAX_HEADER_FIELDS } from './limits';
import { quote, type Warnings } from './warnings';

/**
 * Header fields by lowercase name. A field that occurs once is a string; a field that occurs
 * more than once (Received, a repeated To) is an array of its values in message order. Values
 * are unfolded, trimmed, with raw UTF-8 and RFC 2047 encoded words decoded.
 */
export type HeaderMap = Record<string, string | string[]>;

/** One header field as read from the block. */
export interface HeaderField {
	/** Lowercase field name. */
	name: string;
	/** Unfolded, trimmed value with raw bytes decoded but encoded words left as they are. */
	raw: string;
	/** `raw` with RFC 2047 encoded words decoded. */
	value: string;
}

/** An e-mail address with its display name ('' when there is none). */
export type EmailAddress = { address: string; name: string };

/** Where the header block of a message ends. */
export interface HeaderBounds {
	/** Index just past the last header line (the blank line is not included). */
	headerEnd: number;
	/** Index of the first body byte ( = length when there is no body). */
	bodyStart: number;
	/** False when no blank line ends the headers: the message is all headers. */
	separatorFound: boolean;
	/** True when the header block was longer than {@link MAX_HEADER_BLOCK_BYTES} and was cut. */
	truncated: boolean;
}

const LF = 0x0a;
const CR = 0x0d;
const FIELD_LINE = /^([\x21-\x39\x3b-\x7e]+)[ \t]*:(.*)$/s;
const ENCODED_WORD = /=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=/g;
const HAS_HIGH_BYTE = /[\x80-\xff]/;

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const decoderCache = new Map<string, TextDecoder | null>();

/**
 * Finds the end of the header block of `buf` from `start`: the first empty line (CRLF or LF).
 * Never reads more than {@link MAX_HEADER_BLOCK_BYTES} past `start`.
 */
export function findHeaderEnd(buf: Buffer, start = 0, end = buf.length): HeaderBounds {
	const limit = Math.min(end, start + MAX_HEADER_BLOCK_BYTES);
	// A message may start with its blank line: no headers at all.
	if (buf[start] === LF)
		return { headerEnd: start, bodyStart: start + 1, separatorFound: true, truncated: false };
	if (buf[start] === CR && buf[start + 1] === LF) {
		return { headerEnd: start, bodyStart: start + 2, separatorFound: true, truncated: false };
	}
	let pos = start;
	while (pos < limit) {
		const nl = buf.indexOf(LF, pos);
		if (nl < 0 || nl >= limit) break;
		if (nl + 1 < end && buf[nl + 1] === LF) {
			return { headerEnd: nl + 1, bodyStart: nl + 2, separatorFound: true, truncated: false };
		}
		if (nl + 2 < end && buf[nl + 1] === CR && buf[nl + 2] === LF) {
			return { headerEnd: nl + 1, bodyStart: nl + 3, separatorFound: true, truncated: false };
		}
		pos = nl + 1;
	}
	const truncated = end - start > MAX_HEADER_BLOCK_BYTES;
	return { headerEnd: limit, bodyStart: end, separatorFound: false, truncated };
}

/**
 * Reads the fields of a header block. Lines that are neither a field nor a continuation are
 * skipped (and reported once); bytes that are not UTF-8 are read as Latin-1.
 */
export function parseHeaderBlock(block: Buffer, warnings?: Warnings): HeaderField[] {
	const fields: HeaderField[] = [];
	// latin1 maps every byte to one character, so structure can be found before decoding.
	const lines = block.toString('latin1').split(/\r?\n/);
	let current: { name: string; value: string } | null = null;
	let skipped = 0;
	let tooMany = false;
	const flush = (): void => {
		if (!current) return;
		if (fields.length >= MAX_HEADER_FIELDS) {
			tooMany = true;
		} else {
			const name = current.name;
			const raw = decodeBytes(current.value, name, warnings).trim();
			const value = decodeEncodedWords(raw, (charset) =>
				warnings?.add(
					`header ${name}: encoded text in unknown charset ${quote(charset)} was left undecoded`,
				),
			);
			fields.push({ name, raw, value });
		}
		current = null;
	};
	for (const [index, line] of lines.entries()) {
		if (line === '') continue;
		// An mbox separator ("From sender date") before the first field is not a header.
		if (index === 0 && line.startsWith('From ')) continue;
		if (line[0] === ' ' || line[0] === '\t') {
			// Folded continuation: unfolding removes only the line break (RFC 5322 2.2.3).
			if (current) current.value += line;
			else skipped++;
			continue;
		}
		const match = FIELD_LINE.exec(line);
		if (!match) {
			flush();
			skipped++;
			continue;
		}
		flush();
		current = { name: match[1].toLowerCase(), value: match[2] };
	}
	flush();
	if (skipped > 0) {
		warnings?.add(`${skipped} header line(s) were not valid header fields and were ignored`);
	}
	if (tooMany) {
		warnings?.add(`more than ${MAX_HEADER_FIELDS} header fields: the rest were ignored`);
	}
	return fields;
}

/** Groups header fields by name, see {@link HeaderMap}. */
export function toHeaderMap(fields: HeaderField[]): HeaderMap {
	const map: HeaderMap = {};
	for (const field of fields) {
		const existing = Object.prototype.hasOwnProperty.call(map, field.name)
			? map[field.name]
			: undefined;
		let next: string | string[];
		if (existing === undefined) next = field.value;
		else if (Array.isArray(existing)) next = [...existing, field.value];
		else next = [existing, field.value];
		// defineProperty: a field named __proto__ must become data, not change the prototype.
		Object.defineProperty(map, field.name, {
			value: next,
			enumerable: true,
			writable: true,
			configurable: true,
		});
	}
	return map;
}

/** The values of every field called `name` (lowercase), in message order. */
export function fieldValues(fields: HeaderField[], name: string, raw = false): string[] {
	return fields.filter((f) => f.name === name).map((f) => (raw ? f.raw : f.value));
}

/** The value of the first field called `name`, or undefined. */
export function firstField(fields: HeaderField[], name: string): HeaderField | undefined {
	return fields.find((f) => f.name === name);
}

function decodeBytes(latin1: string, name: string, warnings?: Warnings): string {
	// Plain ASCII is the same in every reading.
	if (!HAS_HIGH_BYTE.test(latin1)) return latin1;
	try {
		return strictUtf8.decode(Buffer.from(latin1, 'latin1'));
	} catch {
		warnings?.add(`header ${name}: bytes that are not UTF-8 were read as Latin-1`);
		return latin1;
	}
}

/** A TextDecoder for a MIME charset name, or null when Node does not know it. */
export function decoderFor(charset: string): TextDecoder | null {
	// RFC 2231 allows a language after '*': utf-8*en.
	const label = charset.split('*')[0].trim().toLowerCase();
	if (decoderCache.has(label)) return decoderCache.get(label) ?? null;
	let decoder: TextDecoder | null = null;
	for (const candidate of [label, label.replace(/^cp-?(125\d)$/, 'windows-$1')]) {
		try {
			decoder = new TextDecoder(candidate);
			break;
		} catch {
			decoder = null;
		}
	}
	decoderCache.set(label, decoder);
	return decoder;
}

interface Segment {
	encoded: boolean;
	text: string;
	charset: string;
	bytes: Buffer | null;
}

/**
 * Decodes RFC 2047 encoded words. Adjacent words (only whitespace between them) are joined, and
 * words in the same charset are decoded together so a character split across two words survives.
 * A word in a charset Node cannot decode is left as it is and reported through `onUnknown`.
 */
export function decodeEncodedWords(text: string, onUnknown?: (charset: string) => void): string {
	if (!text.includes('=?')) return text;
	const segments: Segment[] = [];
	let last = 0;
	for (const match of text.matchAll(ENCODED_WORD)) {
		const index = match.index ?? 0;
		const between = text.slice(last, index);
		const previous = segments[segments.length - 1];
		// Whitespace between two encoded words is not part of the text (RFC 2047 section 6.2).
		if (between !== '' && !(previous?.encoded && /^\s+$/.test(between))) {
			segments.push({ encoded: false, text: between, charset: '', bytes: null });
		}
		const charset = match[1];
		const payload = match[3];
		const bytes =
			match[2].toLowerCase() === 'b' ? Buffer.from(payload, 'base64') : decodeQ(payload);
		segments.push({ encoded: true, text: match[0], charset, bytes });
		last = index + match[0].length;
	}
	if (last < text.length) {
		segments.push({ encoded: false, text: text.slice(last), charset: '', bytes: null });
	}
	let out = '';
	for (let i = 0; i < segments.length; i++) {
		const segment = segments[i];
		if (!segment.encoded || !segment.bytes) {
			out += segment.text;
			continue;
		}
		const key = segment.charset.toLowerCase();
		const parts = [segment.bytes];
		let raw = segment.text;
		while (
			i + 1 < segments.length &&
			segments[i + 1].encoded &&
			segments[i + 1].charset.toLowerCase() === key
		) {
			i++;
			parts.push(segments[i].bytes ?? Buffer.alloc(0));
			raw += segments[i].text;
		}
		const decoder = decoderFor(segment.charset);
		if (decoder) {
			out += decoder.decode(Buffer.concat(parts));
		} else {
			onUnknown?.(segment.charset);
			out += raw;
		}
	}
	return out;
}

function decodeQ(payload: string): Buffer {
	const bytes: number[] = [];
	for (let i = 0; i < payload.length; i++) {
		const ch = payload[i];
		if (ch === '_') {
			bytes.push(0x20);
		} else if (ch === '=' && /^[0-9a-fA-F]{2}$/.test(payload.slice(i + 1, i + 3))) {
			bytes.push(parseInt(payload.slice(i + 1, i + 3), 16));
			i += 2;
		} else {
			bytes.push(ch.charCodeAt(0) & 0xff);
		}
	}
	return Buffer.from(bytes);
}

/** A header value with parameters: `text/plain; charset="utf-8"`. */
export interface ParameterizedValue {
	/** The value before the first ';', lowercased and trimmed. */
	value: string;
	/** Parameters by lowercase name, quotes removed. */
	params: Record<string, string>;
}

/** Splits `type/subtype; a=b; c="d"` into its value and parameters (comments dropped). */
export function parseParameterized(header: string): ParameterizedValue {
	const parts: string[] = [];
	let currentPart = '';
	let inQuotes = false;
	let depth = 0;
	for (let i = 0; i < header.length; i++) {
		const ch = header[i];
		if (inQuotes) {
			if (ch === '\\' && i + 1 < header.length) {
				currentPart += header[++i];
				continue;
			}
			if (ch === '"') inQuotes = false;
			else currentPart += ch;
			continue;
		}
		if (depth > 0) {
			// Inside a comment: ( ... ), possibly nested.
			if (ch === '(') depth++;
			else if (ch === ')') depth--;
			continue;
		}
		if (ch === '"') inQuotes = true;
		else if (ch === '(') depth++;
		else if (ch === ';') {
			parts.push(currentPart);
			currentPart = '';
		} else currentPart += ch;
	}
	parts.push(currentPart);
	const params: Record<string, string> = {};
	for (const part of parts.slice(1)) {
		const eq = part.indexOf('=');
		if (eq <= 0) continue;
		const name = part.slice(0, eq).trim().toLowerCase();
		// Keep the first of a repeated parameter, and never touch the prototype.
		if (name && name !== '__proto__' && !(name in params)) params[name] = part.slice(eq + 1).trim();
	}
	return { value: parts[0].trim().toLowerCase(), params };
}

/** All Message-IDs in a header value, with angle brackets. */
export function messageIdList(value: string | undefined): string[] {
	if (!value) return [];
	const ids: string[] = [];
	for (const match of value.matchAll(/<([^<>]*)>/g)) {
		const inner = match[1].replace(/\s+/g, '');
		if (inner) ids.push(`<${inner}>`);
	}
	if (ids.length === 0) {
		// Some senders leave out the brackets; every token is then taken as one id.
		for (const token of value.split(/[\s,]+/)) if (token) ids.push(`<${token}>`);
	}
	return [...new Set(ids)];
}

/** The first Message-ID in a header value, or null. */
export function firstMessageId(value: string | undefined): string | null {
	return messageIdList(value)[0] ?? null;
}

/** Reads a Date header as an ISO string; null when it cannot be read. */
export function parseDate(value: string): string | null {
	// Comments such as "(PDT)" confuse some date readers and carry nothing the offset lacks.
	const cleaned = value.replace(/\([^()]*\)/g, ' ').trim();
	if (!cleaned) return null;
	const time = Date.parse(cleaned);
	return Number.isFinite(time) ? new Date(time).toISOString() : null;
}

/**
 * Reads address header values (several fields of the same name allowed) into a flat list:
 * groups are replaced by their members, entries without an address are dropped.
 */
export function parseAddresses(values: string[]): EmailAddress[] {
	if (values.length === 0) return [];
	try {
		const parsed = parseAddressHeader(values, { flatten: true });
		return parsed.value
			.filter((entry) => typeof entry.address === 'string' && entry.address !== '')
			.map((entry) => ({ address: entry.address ?? '', name: entry.name ?? '' }));
	} catch {
		// An address header mailparser cannot read is treated as empty rather than fatal.
		return [];
	}
}
