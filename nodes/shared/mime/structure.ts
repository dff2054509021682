/**
 * A quick walk over the MIME structure of a raw message, looking only at part headers and
 * boundary lines, to report what mailparser repairs or skips silently: a multipart without a
 * boundary, a boundary that never appears, a multipart that is never closed (truncated mail),
 * transfer encodings nothing decodes, and charsets that are refused. It also lists the charsets
 * the text parts declare, to name them when decoded text turns out to contain U+FFFD.
 *
 * Works on the Buffer in place (no copies of the body); cost is a few indexOf scans.
 */
import {
	findHeaderEnd,
	firstField,
	parseHeaderBlock,
	parseParameterized,
	type HeaderField,
} from './headers';
import { MAX_MIME_DEPTH, MAX_MIME_PARTS } from './limits';
import { quote, type Warnings } from './warnings';

/** What the structure walk found besides its warnings. */
export interface StructureReport {
	/** Lowercase charsets declared by text parts, in order, without repeats. */
	textCharsets: string[];
}

const KNOWN_TRANSFER_ENCODINGS = new Set(['7bit', '8bit', 'binary', 'quoted-printable', 'base64']);
// Charsets mailparser refuses to decode from (UTF-7 can smuggle markup past filters).
const REFUSED_CHARSET = /^(?:(?:cs)?unicode11)?utf7(?:imap)?$/;
const DASH = 0x2d;
const LF = 0x0a;
const CR = 0x0d;

interface WalkState {
	raw: Buffer;
	warnings: Warnings;
	charsets: Set<string>;
	parts: number;
	partLimitHit: boolean;
}

/**
 * Walks the structure of `raw`, whose top-level header fields (`rootFields`) are already read
 * and whose body starts at `bodyStart`. Adds what it finds to `warnings`.
 */
export function scanStructure(
	raw: Buffer,
	rootFields: HeaderField[],
	bodyStart: number,
	warnings: Warnings,
): StructureReport {
	const state: WalkState = { raw, warnings, charsets: new Set(), parts: 0, partLimitHit: false };
	walk(state, rootFields, bodyStart, raw.length, 0, '');
	return { textCharsets: [...state.charsets] };
}

function walk(
	state: WalkState,
	fields: HeaderField[],
	bodyStart: number,
	bodyEnd: number,
	depth: number,
	partId: string,
): void {
	const where = partId ? `part ${partId}` : 'the message';
	const contentType = firstField(fields, 'content-type');
	const type = contentType ? parseParameterized(contentType.value) : null;
	const mimeType = type?.value || 'text/plain';

	const encoding = firstField(fields, 'content-transfer-encoding')?.value.trim().toLowerCase();
	if (encoding && !KNOWN_TRANSFER_ENCODINGS.has(encoding)) {
		state.warnings.add(
			`${where} uses the transfer encoding ${quote(encoding)}, which is not decoded: its content is passed on as it is`,
		);
	}

	if (mimeType.startsWith('text/')) {
		const charset = type?.params.charset?.trim().toLowerCase();
		if (charset) {
			state.charsets.add(charset);
			if (REFUSED_CHARSET.test(charset.replace(/[^a-z0-9]/g, ''))) {
				state.warnings.add(
					`${where} is in the charset ${quote(charset)}, which is not decoded (it can hide markup): its text is shown as sent`,
				);
			}
		}
		return;
	}
	if (!mimeType.startsWith('multipart/')) return;

	if (depth >= MAX_MIME_DEPTH) {
		state.warnings.add(`MIME parts nested deeper than ${MAX_MIME_DEPTH} levels were not checked`);
		return;
	}
	const boundary = type?.params.boundary;
	if (!boundary) {
		state.warnings.add(
			`${where} is ${mimeType} but names no boundary: its parts cannot be told apart and it is read as one body`,
		);
		return;
	}
	const delimiters = findDelimiters(state.raw, boundary, bodyStart, bodyEnd);
	if (delimiters.length === 0) {
		state.warnings.add(
			`the boundary of ${where} (${mimeType}) never appears in its body: its parts could not be separated`,
		);
		return;
	}
	const closed = delimiters.some((d) => d.closing);
	if (!closed) {
		state.warnings.add(
			`${where} (${mimeType}) is never closed by its final boundary: the message may be truncated`,
		);
	}
	let number = 0;
	for (let i = 0; i < delimiters.length; i++) {
		const delimiter = delimiters[i];
		// Whatever follows the closing delimiter is epilogue, not a part.
		if (delimiter.closing) break;
		const partStart = delimiter.lineEnd;
		const partEnd = i + 1 < delimiters.length ? delimiters[i + 1].start : bodyEnd;
		number++;
		state.parts++;
		if (state.parts > MAX_MIME_PARTS) {
			if (!state.partLimitHit) {
				state.partLimitHit = true;
				state.warnings.add(`more than ${MAX_MIME_PARTS} MIME parts: the rest were not checked`);
			}
			return;
		}
		const bounds = findHeaderEnd(state.raw, partStart, partEnd);
		const partFields = parseHeaderBlock(state.raw.subarray(partStart, bounds.headerEnd));
		const childId = partId ? `${partId}.${number}` : String(number);
		walk(state, partFields, bounds.bodyStart, partEnd, depth + 1, childId);
	}
}

interface Delimiter {
	/** Index of the line break before the delimiter line (or of the line when there is none). */
	start: number;
	/** Index just past the delimiter line. */
	lineEnd: number;
	closing: boolean;
}

/** Finds the `--boundary` lines (RFC 2046 5.1.1) between `from` and `to`. */
function findDelimiters(raw: Buffer, boundary: string, from: number, to: number): Delimiter[] {
	const needle = Buffer.from(`--${boundary}`, 'utf8');
	const found: Delimiter[] = [];
	let pos = from;
	while (pos < to) {
		const index = raw.indexOf(needle, pos);
		if (index < 0 || index + needle.length > to) break;
		pos = index + needle.length;
		// A delimiter starts a line.
		if (index !== from && raw[index - 1] !== LF) continue;
		let after = index + needle.length;
		const closing = raw[after] === DASH && raw[after + 1] === DASH;
		if (closing) after += 2;
		// Only whitespace may follow; otherwise this is a longer boundary that starts the same way.
		let lineEnd = after;
		while (lineEnd < to && (raw[lineEnd] === 0x20 || raw[lineEnd] === 0x09)) lineEnd++;
		if (lineEnd < to && raw[lineEnd] !== CR && raw[lineEnd] !== LF) continue;
		if (raw[lineEnd] === CR) lineEnd++;
		if (raw[lineEnd] === LF) lineEnd++;
		let start = index;
		if (start > from && raw[start - 1] === LF) start--;
		if (start > from && raw[start - 1] === CR) start--;
		found.push({ start, lineEnd: Math.min(lineEnd, to), closing });
		pos = lineEnd;
	}
	return found;
}
