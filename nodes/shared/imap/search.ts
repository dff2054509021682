/**
 * The filters of Message → Get Many as one IMAP SEARCH, run by the server. Every filter is
 * checked first: a date that does not parse or a header name IMAP cannot carry is refused
 * with a message saying what to enter, because imapflow would quietly drop it and the
 * search would then match more than was asked for.
 */
import type { SearchObject } from 'imapflow';

import { ImapError } from './connect';

/** The filters as the node reads them; empty strings mean "not set". */
export interface MessageFilters {
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
		throw new ImapError(`${label} contains a line break or control character: enter plain text.`);
	}
	return s;
}

/** A date the user entered, or undefined when none. @throws ImapError when it does not parse. */
export function parseFilterDate(label: string, value: unknown): Date | undefined {
	if (value === undefined || value === null || value === '') return undefined;
	const date = value instanceof Date ? value : new Date(String(value).trim());
	if (Number.isNaN(date.getTime())) {
		throw new ImapError(
			`${label} "${String(value)}" is not a date: enter one such as 2026-11-24 or 2026-11-24T10:00:00Z.`,
		);
	}
	return date;
}

/**
 * The SEARCH for the filters; no filter at all searches every message.
 *
 * @throws ImapError for a filter that cannot be searched as given.
 */
export function buildSearch(filters: MessageFilters): SearchObject {
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
	const since = parseFilterDate('Received After', filters.since);
	const before = parseFilterDate('Received Before', filters.before);
	if (since && before && since.getTime() >= before.getTime()) {
		throw new ImapError(
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
			throw new ImapError(
				`Header Name "${headerName}" is not a header name: enter a name such as X-Ticket-ID, without the colon.`,
			);
		}
		// An empty value asks whether the header is there at all.
		header[headerName.toLowerCase()] = headerValue;
	} else if (headerValue) {
		throw new ImapError('Header Value is set without a Header Name: enter the header to search.');
	}
	if (Object.keys(header).length) query.header = header;
	return query;
}
