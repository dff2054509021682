/**
 * Message → Get Many's text filters on servers that search less than they announce. A server
 * may refuse a search key (the search fails: the filter it lacks is named, and nothing is
 * read) or ignore one and answer with more than was asked for: every message the search
 * returns is then checked here against the headers the filters are about, and one that does
 * not match is left out. Body Contains cannot be checked from the headers: when a search with
 * it returns messages, the server is asked for a text no message holds, and one that answers
 * with messages ignored BODY, so the search fails naming Body Contains instead of returning
 * mail the filter was not applied to.
 */
import { randomUUID } from 'node:crypto';

import type { SearchObject } from 'imapflow';

import { parseHeaderBlock, type HeaderField } from '../mime/headers';
import { ServerError } from '../errors';
import type { InboxClient } from './inbox';

/** UIDs per FETCH of the few header fields checked: a short command, a few kB per answer. */
const CHECK_FETCH_CHUNK = 200;

/** One text filter of a search: what the user set, the IMAP key it became, how to check it. */
interface TextFilter {
	/** As the node names it, for errors. */
	label: string;
	/** The IMAP SEARCH key. */
	key: string;
	/** The search with this filter alone. */
	alone: SearchObject;
	/** The header field it is about (lower case); null for the body. */
	field: string | null;
	/** The text the field must contain ('' for a header that only has to be there). */
	text: string;
}

/** The filters of `query` that search text (From, To, Subject, Body, headers). */
function textFilters(query: SearchObject): TextFilter[] {
	const filters: TextFilter[] = [];
	const add = (label: string, key: string, name: 'from' | 'to' | 'subject') => {
		const text = query[name];
		if (typeof text === 'string')
			filters.push({ label, key, alone: { [name]: text }, field: name, text });
	};
	add('From', 'FROM', 'from');
	add('To', 'TO', 'to');
	add('Subject Contains', 'SUBJECT', 'subject');
	if (typeof query.body === 'string') {
		filters.push({
			label: 'Body Contains',
			key: 'BODY',
			alone: { body: query.body },
			field: null,
			text: query.body,
		});
	}
	for (const [name, text] of Object.entries(query.header ?? {})) {
		const value = String(text);
		const label =
			name === 'content-type'
				? 'Has Attachments'
				: name === 'message-id'
					? 'Message-ID'
					: `Header Name "${name}"`;
		filters.push({
			label,
			key: 'HEADER',
			alone: { header: { [name]: value } },
			field: name,
			text: value,
		});
	}
	return filters;
}

/**
 * After the server refused `query`: finds the filter it refused by searching with each text
 * filter alone, and fails naming it.
 *
 * @throws ServerError always: naming the refused filter when one alone is refused, else `fallback`.
 */
export async function explainRefusal(
	inbox: InboxClient,
	folder: string,
	query: SearchObject,
	fallback: string,
): Promise<never> {
	for (const filter of textFilters(query)) {
		const result = await inbox.imap.search(filter.alone, { uid: true });
		if (Array.isArray(result)) continue;
		const instead =
			filter.field === null
				? 'filter on the messages’ "text" after this node (Output: Full, then an n8n Filter node)'
				: 'filter the items after this node (an n8n Filter node)';
		throw new ServerError(
			`${inbox.address}'s IMAP server refused to search "${folder}" by ${filter.label}: it does not support IMAP SEARCH ${filter.key}. Nothing was read. Remove ${filter.label} from the filters and ${instead}.`,
		);
	}
	throw new ServerError(fallback);
}

/** Whether one of the fields contains `text`, as IMAP compares: any case, decoded or not. */
function contains(fields: HeaderField[], text: string): boolean {
	const wanted = text.toLowerCase();
	return fields.some(
		(field) =>
			field.raw.toLowerCase().includes(wanted) || field.value.toLowerCase().includes(wanted),
	);
}

/**
 * The UIDs of `uids` whose headers match every header filter of `query`, in the same order.
 * A server that searches as asked loses nothing here; one that ignored a key loses what it
 * should not have returned.
 */
export async function keepMatching(
	inbox: InboxClient,
	uids: number[],
	query: SearchObject,
): Promise<number[]> {
	const checks = textFilters(query).filter(
		(f): f is TextFilter & { field: string } => f.field !== null,
	);
	if (checks.length === 0 || uids.length === 0) return uids;
	const names = [...new Set(checks.map((check) => check.field))];
	const matching = new Set<number>();
	for (let start = 0; start < uids.length; start += CHECK_FETCH_CHUNK) {
		const chunk = uids.slice(start, start + CHECK_FETCH_CHUNK);
		const fetched = await inbox.imap.fetchAll(
			chunk.join(','),
			{ uid: true, headers: names },
			{ uid: true },
		);
		for (const message of fetched) {
			const fields = parseHeaderBlock(message.headers ?? Buffer.alloc(0));
			const matches = (check: TextFilter & { field: string }) => {
				const present = fields.filter((field) => field.name === check.field);
				// An empty text asks only whether the header is there.
				return check.text === '' ? present.length > 0 : contains(present, check.text);
			};
			if (checks.every(matches)) matching.add(message.uid);
		}
	}
	return uids.filter((uid) => matching.has(uid));
}

/**
 * After a search with Body Contains returned messages: fails when the server ignores BODY
 * search (it answers a search for a text no message holds with messages), since those
 * messages were not filtered by their body. The folder is the one selected.
 *
 * @throws ServerError naming Body Contains when the server ignored BODY.
 */
export async function checkBodyApplied(
	inbox: InboxClient,
	folder: string,
	query: SearchObject,
	found: number[],
): Promise<void> {
	if (typeof query.body !== 'string' || found.length === 0) return;
	const absent = await inbox.imap.search(
		{ body: `agentmail-absent-${randomUUID()}` },
		{ uid: true },
	);
	if (Array.isArray(absent) && absent.length === 0) return;
	throw new ServerError(
		`${inbox.address}'s IMAP server ignores IMAP SEARCH BODY in "${folder}": it answered with messages that do not contain the text, so Body Contains cannot be applied. Nothing was returned. Remove Body Contains from the filters and filter on the messages’ "text" after this node (Output: Full, then an n8n Filter node).`,
	);
}
