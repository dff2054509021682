/**
 * A small, synchronous reader for a MIME header block: finds where the headers end, unfolds
 * and decodes the fields (raw UTF-8, RFC 2047 encoded words with libmime), and reads the values
 * the trigger item needs (Message-IDs, dates, addresses, Content-Type parameters).
 *
 * It exists beside mailparser because the trigger must be able to describe a message from its
 * header bytes alone (messages over the size cap, parses that time out), without the body.
 */
import { TextDecoder } from 'node:util';

import libmime from 'libmime';
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

/**
 * Reads raw header bytes: runs of valid UTF-8 as UTF-8, every other byte with the high bit as
 * Latin-1. libmime and mailparser work on header text that is already decoded (mailparser reads
 * the bytes as UTF-8 and turns every other byte into U+FFFD), so this reading is our own.
 */
function decodeBytes(latin1: string, name: string, warnings?: Warnings): string {
	// Plain ASCII is the same in every reading.
	if (!HAS_HIGH_BYTE.test(latin1)) return latin1;
	const bytes = Buffer.from(latin1, 'latin1');
	try {
		return strictUtf8.decode(bytes);
	} catch {
		warnings?.add(`header ${name}: bytes that are not UTF-8 were read as Latin-1`);
	}
	// Each stray byte is rewritten as the UTF-8 of its Latin-1 character, then all is decoded once.
	// Latin-1 rather than U+FFFD: a stray byte is most often a Latin-1 letter, and it stays readable.
	const out = Buffer.alloc(bytes.length * 2);
	let length = 0;
	for (let i = 0; i < bytes.length;) {
		const size = utf8SequenceLength(bytes, i);
		if (size > 0) {
			for (const end = i + size; i < end;) out[length++] = bytes[i++];
		} else {
			out[length++] = 0xc0 | (bytes[i] >> 6);
			out[length++] = 0x80 | (bytes[i++] & 0x3f);
		}
	}
	return out.toString('utf8', 0, length);
}

/** The length of the well-formed UTF-8 sequence at `i` (Unicode table 3-7), 0 when there is none. */
function utf8SequenceLength(bytes: Buffer, i: number): number {
	const lead = bytes[i];
	if (lead < 0x80) return 1;
	let size = 4;
	let low = 0x80;
	let high = 0xbf;
	if (lead >= 0xc2 && lead <= 0xdf) size = 2;
	else if (lead >= 0xe0 && lead <= 0xef) size = 3;
	else if (lead < 0xf0 || lead > 0xf4) return 0;
	// Overlong forms, surrogates and code points past U+10FFFF are not UTF-8.
	if (lead === 0xe0) low = 0xa0;
	else if (lead === 0xed) high = 0x9f;
	else if (lead === 0xf0) low = 0x90;
	else if (lead === 0xf4) high = 0x8f;
	if (i + size > bytes.length || bytes[i + 1] < low || bytes[i + 1] > high) return 0;
	for (let k = 2; k < size; k++) if (bytes[i + k] < 0x80 || bytes[i + k] > 0xbf) return 0;
	return size;
}

// A word in these charsets starts in the charset's initial state and should end in it (RFC 1468
// for ISO-2022-JP), so each is decoded alone: decoded together, one that does not garbles the next.
const STATEFUL_CHARSET = /^(?:iso-?2022|jis|utf-?7|hz-)/i;
// WHATWG labels libmime does not know, for the name it knows the charset by.
const CHARSET_ALIASES = new Map([
	['unicode20utf8', 'utf-8'],
	['x-unicode20utf8', 'utf-8'],
	['csiso88598i', 'iso-8859-8'],
	['logical', 'iso-8859-8'],
	['csiso2022jp', 'iso-2022-jp'],
]);
const MAX_CACHED_CHARSETS = 64;
const charsetCache = new Map<string, string | null>();

interface EncodedWord {
	/** The word as written. */
	text: string;
	/** The charset as written. */
	charset: string;
	/** libmime's name for the charset, or null when libmime cannot decode it. */
	known: string | null;
	encoding: 'B' | 'Q';
	payload: string;
}

type Segment = { word: EncodedWord } | { plain: string };

/** libmime's name for a MIME charset, or null when libmime cannot decode it. */
function knownCharset(charset: string): string | null {
	// RFC 2231 allows a language after '*': utf-8*en.
	const label = charset.split('*')[0].trim().toLowerCase();
	const cached = charsetCache.get(label);
	if (cached !== undefined) return cached;
	const name = libmime.normalizeCharset(CHARSET_ALIASES.get(label) ?? label);
	// libmime.decodeWord reads a charset it cannot decode (or refuses: UTF-7) as UTF-8; only its
	// decode stream tells.
	// An empty name ("=?*en?Q?...?=") is one libmime would take for UTF-8.
	const known = label !== '' && libmime.createDecodeStream(name).supported ? name : null;
	// Charset names come from the mail: the cache must not grow without end.
	if (charsetCache.size >= MAX_CACHED_CHARSETS) charsetCache.clear();
	charsetCache.set(label, known);
	return known;
}

/**
 * Decodes RFC 2047 encoded words with libmime. Whitespace between adjacent words is dropped.
 * Adjacent words in the same charset and encoding are decoded together, as libmime's
 * decodeWords does, so a character split across two words survives (UTF-8, Shift_JIS, GBK,
 * Big5, EUC-*). What decodeWords does not do is done here: words in a stateful charset
 * (ISO-2022-*) are decoded one by one, and a word in a charset libmime cannot decode is left as
 * it is and reported through `onUnknown` (decodeWords would read it as UTF-8).
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
		if (between !== '' && !(previous && 'word' in previous && /^\s+$/.test(between))) {
			segments.push({ plain: between });
		}
		segments.push({
			word: {
				text: match[0],
				charset: match[1],
				known: knownCharset(match[1]),
				encoding: match[2].toUpperCase() === 'B' ? 'B' : 'Q',
				payload: match[3],
			},
		});
		last = index + match[0].length;
	}
	if (last < text.length) segments.push({ plain: text.slice(last) });
	let out = '';
	for (let i = 0; i < segments.length; i++) {
		const segment = segments[i];
		if ('plain' in segment) {
			out += segment.plain;
			continue;
		}
		const run = [segment.word];
		let next = segments[i + 1];
		while (next && 'word' in next && runKey(next.word) === runKey(segment.word)) {
			run.push(next.word);
			next = segments[++i + 1];
		}
		out += decodeRun(run, onUnknown);
	}
	return out;
}

/** Words with the same key are in the same charset. */
function runKey(word: EncodedWord): string {
	return word.known ?? `unknown ${word.charset.toLowerCase()}`;
}

/** Decodes adjacent encoded words in one charset. */
function decodeRun(run: EncodedWord[], onUnknown?: (charset: string) => void): string {
	const charset = run[0].known;
	if (charset === null) {
		onUnknown?.(run[0].charset);
		return run.map((word) => word.text).join('');
	}
	if (STATEFUL_CHARSET.test(charset)) {
		return run.map((word) => libmime.decodeWord(charset, word.encoding, word.payload)).join('');
	}
	let out = '';
	for (let i = 0; i < run.length;) {
		// The payloads of adjacent words are decoded as one, as libmime's decodeWords does.
		const encoding = run[i].encoding;
		let payload = '';
		for (; i < run.length && run[i].encoding === encoding; i++) payload += run[i].payload;
		out += libmime.decodeWord(charset, encoding, payload);
	}
	return out;
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
