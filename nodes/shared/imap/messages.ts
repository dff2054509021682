/**
 * Finding and reading messages of one folder for the action node: SEARCH on the server, then
 * FETCH of only the messages returned, in chunks, newest first. Headers only is the envelope
 * and flags; full is the trigger's own item (../mime/toItem.ts), with the folder's UIDVALIDITY.
 */
import type { FetchMessageObject } from 'imapflow';

import { formatBytes } from '../format';
import type { MessageBinary, ToItemOptions, MessageItem } from '../mime/item';
import { headersOnlyItem, parseMessage } from '../mime/toItem';
import { errorText, InputError, ServerError } from '../errors';
import { chunkPlan, FETCH_CHUNK_BYTES } from '../fetchPlan';
import type { InboxClient, SelectedFolder } from './inbox';
import { buildSearch, type SearchFilters } from './search';
import { checkBodyApplied, explainRefusal, keepMatching } from './searchCheck';

/** UIDs per FETCH of envelopes: a short command line, and a few hundred kB per answer. */
export const HEADER_FETCH_CHUNK = 200;
/** Whole messages per FETCH; also at most {@link FETCH_CHUNK_BYTES} of source per chunk. */
export const SOURCE_FETCH_MESSAGES = 25;
/** Messages over this are returned with their headers only (the trigger's default too). */
export const DEFAULT_MAX_MESSAGE_BYTES = 40 * 1024 * 1024;
/**
 * The most Return All gives; past it the search fails, asking for narrower filters, since
 * every item is held in n8n's memory until the execution ends. Headers-only items are small.
 */
export const RETURN_ALL_CAP = { headers: 10_000, full: 1_000 } as const;

export type OutputFormat = keyof typeof RETURN_ALL_CAP;

/** What every item of the action node says about where its message is. */
export interface MessagePlace {
	uid: number;
	/** The folder's UIDVALIDITY: with the UID, names this message for good. */
	uidValidity: string;
	folder: string;
	messageId: string | null;
	flags: string[];
}

/** Fields of the trigger's item that a header block cannot fill: left out, not given as empty. */
const BODY_FIELDS = ['text', 'html', 'replyText', 'attachments'] as const;

/**
 * A message with its headers only: the trigger's item read from the header block (the same
 * reader, so the same fields), without the body fields it cannot fill.
 */
export type HeaderItem = MessagePlace & Omit<MessageItem, (typeof BODY_FIELDS)[number]>;

/** A message as the trigger emits it, with its UIDVALIDITY and binaries. */
export type FullItem = {
	json: MessageItem & MessagePlace;
	binaries: Record<string, MessageBinary>;
};

/** How full items are built. */
export type FullOptions = ToItemOptions & { maxMessageBytes?: number };

/**
 * UIDs of the folder's messages that match, newest first (the highest UID arrived last).
 *
 * @throws InputError when a filter cannot be searched as given; ServerError when the server
 * refuses the search (naming the filter it refused) or ignores Body Contains.
 */
export async function searchFolder(
	inbox: InboxClient,
	folder: string,
	filters: SearchFilters,
	/** The workflow's time zone, for dates without an offset. */
	timeZone?: string,
): Promise<{ selected: SelectedFolder; uids: number[] }> {
	const query = buildSearch(filters, timeZone);
	const selected = await inbox.select(folder);
	const found = await inbox.imap.search(query, { uid: true }).catch((error: unknown) => {
		// imapflow refuses some queries itself (InvalidSearchQuery) before asking the server.
		throw new ServerError(`The search could not be run: ${errorText(error)}.`);
	});
	if (!Array.isArray(found)) {
		return await explainRefusal(
			inbox,
			selected.path,
			query,
			`${inbox.address} refused the search in "${selected.path}": its server does not support one of these filters. Remove the last filter you added (the custom header or Body Contains are the likeliest) and run it again.`,
		);
	}
	// A server that ignores a key it lacks answers with more than was asked for.
	await checkBodyApplied(inbox, selected.path, query, found);
	const matching = await keepMatching(inbox, found, query);
	return { selected, uids: matching.sort((a, b) => b - a) };
}

/** Fails when Return All would give more than its cap. */
export function checkReturnAll(count: number, folder: string, format: OutputFormat): void {
	const cap = RETURN_ALL_CAP[format];
	if (count <= cap) return;
	const other =
		format === 'full' ? ` or choose Output "Headers Only" (up to ${RETURN_ALL_CAP.headers})` : '';
	throw new InputError(
		`The search matched ${count} messages in "${folder}", more than the ${cap} Return All gives: narrow the filters (e.g. Received After), turn off Return All and set a Limit${other}.`,
	);
}

/** The messages' header blocks (no body) as items, in the order of `uids`. */
export async function fetchHeaderItems(
	inbox: InboxClient,
	selected: SelectedFolder,
	uids: number[],
): Promise<HeaderItem[]> {
	const items: HeaderItem[] = [];
	for (let start = 0; start < uids.length; start += HEADER_FETCH_CHUNK) {
		const chunk = uids.slice(start, start + HEADER_FETCH_CHUNK);
		const fetched = await inbox.imap.fetchAll(
			chunk.join(','),
			{ uid: true, flags: true, size: true, headers: true },
			{ uid: true },
		);
		items.push(...inOrder(chunk, fetched).map((m) => headerItem(m, selected, inbox.address)));
	}
	return items;
}

/**
 * The messages as full items, in the order of `uids`, one chunk of sources in memory at a
 * time. A message over `maxMessageBytes` comes with its headers only and a warning.
 */
export async function* fetchFullItems(
	inbox: InboxClient,
	selected: SelectedFolder,
	uids: number[],
	options: FullOptions,
): AsyncGenerator<FullItem> {
	const maxBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
	for (let start = 0; start < uids.length; start += HEADER_FETCH_CHUNK) {
		const wanted = uids.slice(start, start + HEADER_FETCH_CHUNK);
		const sizes = inOrder(
			wanted,
			await inbox.imap.fetchAll(wanted.join(','), { uid: true, size: true }, { uid: true }),
		);
		const plan = sizes.map((m) => ({
			uid: m.uid,
			size: m.size ?? 0,
			fetch: (m.size ?? 0) > maxBytes ? ('headers' as const) : ('source' as const),
		}));
		for (const chunk of chunkPlan(plan, {
			messages: SOURCE_FETCH_MESSAGES,
			bytes: FETCH_CHUNK_BYTES,
		})) {
			const whole = chunk.filter((p) => p.fetch === 'source').map((p) => p.uid);
			const large = chunk.filter((p) => p.fetch === 'headers').map((p) => p.uid);
			const fetched = [
				...(whole.length ? await fetchParts(inbox, whole, { source: true }) : []),
				...(large.length ? await fetchParts(inbox, large, { headers: true }) : []),
			];
			for (const message of inOrder(
				chunk.map((p) => p.uid),
				fetched,
			)) {
				yield await fullItem(message, selected, options, maxBytes);
			}
		}
	}
}

async function fetchParts(
	inbox: InboxClient,
	uids: number[],
	part: { source: true } | { headers: true },
): Promise<FetchMessageObject[]> {
	return await inbox.imap.fetchAll(
		uids.join(','),
		{ uid: true, flags: true, size: true, envelope: true, ...part },
		{ uid: true },
	);
}

async function fullItem(
	message: FetchMessageObject,
	selected: SelectedFolder,
	options: FullOptions,
	maxBytes: number,
): Promise<FullItem> {
	const meta = {
		uid: message.uid,
		uidValidity: selected.uidValidity,
		folder: selected.path,
		flags: flagsOf(message),
		size: message.size ?? 0,
	};
	const parsed = message.source
		? await parseMessage(message.source, meta, options)
		: headersOnlyItem(
				message.headers ?? Buffer.alloc(0),
				meta,
				`the message is ${formatBytes(meta.size)}, over the ${formatBytes(maxBytes)} limit set in the node: only its headers were read`,
				options.inbox,
			);
	return { json: parsed.json, binaries: parsed.binaries };
}

/**
 * The message's flags without \Recent, which only says whether this session is the first to
 * see it (gone in IMAP4rev2): a second read would show other flags for the same message.
 */
export function flagsOf(message: { flags?: Set<string> }): string[] {
	return [...(message.flags ?? [])].filter((flag) => flag !== '\\Recent');
}

/** The fetched messages in the order of `uids`; UIDs that no longer exist are left out. */
function inOrder(uids: number[], fetched: FetchMessageObject[]): FetchMessageObject[] {
	const byUid = new Map(fetched.map((m) => [m.uid, m]));
	return uids.flatMap((uid) => {
		const message = byUid.get(uid);
		return message ? [message] : [];
	});
}

function headerItem(
	message: FetchMessageObject,
	selected: SelectedFolder,
	inbox: string,
): HeaderItem {
	const meta = {
		uid: message.uid,
		uidValidity: selected.uidValidity,
		folder: selected.path,
		flags: flagsOf(message),
		size: message.size ?? 0,
	};
	const parsed = headersOnlyItem(message.headers ?? Buffer.alloc(0), meta, null, inbox);
	const item: Record<string, unknown> = { ...parsed.json };
	for (const field of BODY_FIELDS) delete item[field];
	return item as unknown as HeaderItem;
}
