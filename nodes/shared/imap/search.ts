/**
 * The filters of Message → Get Many as one IMAP SEARCH, run by the server. Every filter is
 * checked first: a date that does not parse or a header name IMAP cannot carry is refused
 * with a message saying what to enter, because imapflow would quietly drop it and the
 * search would then match more than was asked for.
 */
import type { SearchObject } from 'imapflow';

import { InputError } from '../errors';

/** The filters as the node reads them; empty strings mean "not set". */
export interface SearchFilters {
	readStatus?: 'unread' | 'read' | '';
	flagged?: 'flagged' | 'unflagged' | '';
	from?: string;
	to?: string;
	subject?: string;
	/** Words in the body (IMAP BODY: the text, not the headers). */
	text?: string;
	/** Received on or after (the server's arrival date). */
	since?: string | Date;
	/** Received before. */
	before?: string | Date;
	/** Best effort: IMAP cannot search for attachments, so this asks for multipart/mixed. */
	hasAttachments?: boolean;
	messageId?: string;
	headerName?: string;
	headerValue?: string;
}

/** A header field name as RFC 5322 allows it: printable US-ASCII without the colon. */
const HEADER_NAME = /^[!-9;-~]+$/;
/** Below this (CR, LF, NUL, ...), and DEL: control characters cannot be part of a search string. */
const FIRST_PRINTABLE = 0x20;
const DELETE = 0x7f;

function hasControlCharacter(value: string): boolean {
	for (let k = 0; k < value.length; k++) {
		const code = value.charCodeAt(k);
		if (code < FIRST_PRINTABLE || code === DELETE) return true;
	}
	return false;
}
/** Mail with attachments is sent as multipart/mixed; inline-only mail as multipart/related. */
const ATTACHMENT_CONTENT_TYPE = 'multipart/mixed';

function text(label: string, value: unknown): string | undefined {
	const s = value === undefined || value === null ? '' : String(value).trim();
	if (!s) return undefined;
	if (hasControlCharacter(s)) {
		throw new InputError(`${label} contains a line break or control character: enter plain text.`);
	}
	return s;
}

/** A date and time without an offset (what n8n's date picker gives): read in the workflow's zone. */
const LOCAL_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?$/;

/** A formatter of wall-clock time in `timeZone`; undefined when the zone is not known. */
function wallClock(timeZone: string): Intl.DateTimeFormat | undefined {
	try {
		return new Intl.DateTimeFormat('en-US', {
			timeZone,
			hourCycle: 'h23',
			year: 'numeric',
			month: '2-digit',
			day: '2-digit',
			hour: '2-digit',
			minute: '2-digit',
			second: '2-digit',
		});
	} catch {
		return undefined;
	}
}

/** How far `timeZone` is ahead of UTC at the instant `utcMs`, in ms. */
function zoneOffsetMs(utcMs: number, timeZone: string): number {
	const format = wallClock(timeZone);
	if (!format) {
		throw new InputError(
			`The time zone "${timeZone}" is not known: set the workflow's time zone in its settings, or give dates with an offset, e.g. 2026-11-24T10:00:00Z.`,
		);
	}
	const parts = format.formatToParts(new Date(utcMs));
	const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
	const asUtc = Date.UTC(
		get('year'),
		get('month') - 1,
		get('day'),
		get('hour'),
		get('minute'),
		get('second'),
	);
	return asUtc - Math.floor(utcMs / 1000) * 1000;
}

/**
 * A date the user entered, or undefined when none. One without an offset is read in
 * `timeZone` (the workflow's), else in UTC; one with an offset or a Z as it says.
 *
 * @throws InputError when it does not parse, or `timeZone` is not a time zone.
 */
export function parseFilterDate(label: string, value: unknown, timeZone = 'UTC'): Date | undefined {
	if (value === undefined || value === null || value === '') return undefined;
	if (value instanceof Date && !Number.isNaN(value.getTime())) return value;
	const text = String(value).trim();
	const local = LOCAL_DATE_TIME.exec(text);
	let date: Date;
	if (local) {
		const [, y, mo, d, h = '0', mi = '0', sec = '0'] = local;
		const wall = Date.UTC(+y, +mo - 1, +d, +h, +mi, +sec);
		// The offset at the wall time itself, then at the instant found (right across DST changes).
		let instant = wall - zoneOffsetMs(wall, timeZone);
		instant = wall - zoneOffsetMs(instant, timeZone);
		date = new Date(instant);
		// Date.UTC rolls 2026-02-31 over to March: a day that does not exist is refused.
		if (new Date(wall).getUTCDate() !== +d) date = new Date(NaN);
	} else {
		date = new Date(text);
	}
	if (Number.isNaN(date.getTime())) {
		throw new InputError(
			`${label} "${String(value)}" is not a date: enter one such as 2026-11-24 or 2026-11-24T10:00:00Z.`,
		);
	}
	return date;
}

/**
 * The SEARCH for the filters; no filter at all searches every message. Dates without an
 * offset are read in `timeZone` (the workflow's time zone), else UTC.
 *
 * @throws InputError for a filter that cannot be searched as given.
 */
export function buildSearch(filters: SearchFilters, timeZone?: string): SearchObject {
	const query: SearchObject = {};
	if (filters.readStatus === 'unread') query.seen = false;
	else if (filters.readStatus === 'read') query.seen = true;
	if (filters.flagged === 'flagged') query.flagged = true;
	else if (filters.flagged === 'unflagged') query.flagged = false;
	const from = text('From', filters.from);
	if (from) query.from = from;
	const to = text('To', filters.to);
	if (to) query.to = to;
	const subject = text('Subject Contains', filters.subject);
	if (subject) query.subject = subject;
	const body = text('Body Contains', filters.text);
	if (body) query.body = body;
	const since = parseFilterDate('Received After', filters.since, timeZone);
	const before = parseFilterDate('Received Before', filters.before, timeZone);
	if (since && before && since.getTime() >= before.getTime()) {
		throw new InputError(
			`Received After (${since.toISOString()}) is not earlier than Received Before (${before.toISOString()}): no message could match; check the two dates.`,
		);
	}
	if (since) query.since = since;
	if (before) query.before = before;
	const header: Record<string, string> = {};
	if (filters.hasAttachments === true) header['content-type'] = ATTACHMENT_CONTENT_TYPE;
	const messageId = text('Message-ID', filters.messageId);
	if (messageId) header['message-id'] = messageId;
	const headerName = text('Header Name', filters.headerName);
	const headerValue = text('Header Value', filters.headerValue) ?? '';
	if (headerName) {
		if (!HEADER_NAME.test(headerName)) {
			throw new InputError(
				`Header Name "${headerName}" is not a header name: enter a name such as X-Ticket-ID, without the colon.`,
			);
		}
		// An empty value asks whether the header is there at all.
		header[headerName.toLowerCase()] = headerValue;
	} else if (headerValue) {
		throw new InputError('Header Value is set without a Header Name: enter the header to search.');
	}
	if (Object.keys(header).length) query.header = header;
	return query;
}
