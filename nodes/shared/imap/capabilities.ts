/**
 * What an inbox's IMAP server announces and how it behaves where the package relies on more than
 * it announces: the capability list, the Sent and Trash folders (marked by SPECIAL-USE or found by
 * name) and the search keys (./searchProbe). Read-only: folders are examined, never selected for
 * writing, and no flag is fetched in a way that sets \Seen.
 */
import type { ListResponse } from 'imapflow';

import type { InboxClient } from './inbox';
import { probeSearch, type SearchProbe } from './searchProbe';

/** How a folder the package needs was found. */
export interface FolderFinding {
	/** Its path; null when the inbox has none. */
	path: string | null;
	/** `special-use`: LIST marks it (RFC 6154); `name`: only its usual name says so. */
	foundBy: 'special-use' | 'name' | null;
}

export interface ImapFacts {
	/** The capabilities announced after login, sorted. */
	capabilities: string[];
	/** What the server says of itself (IMAP ID), when it answers ID. */
	server: Record<string, string> | null;
	/** Every selectable folder. */
	folders: string[];
	sent: FolderFinding;
	trash: FolderFinding;
	/** HEADER, BODY and TEXT search in INBOX and, when there is one, Sent. */
	search: SearchProbe[];
}

/** The folder LIST marks with `use`, else the one named `usualName`, and how it was found. */
function findFolder(folders: ListResponse[], use: string, usualName: string): FolderFinding {
	const marked = folders.find((f) => f.specialUse === use);
	// imapflow also sets specialUse from a folder's name when LIST marks nothing: only
	// 'extension' means the server said so.
	if (marked && marked.specialUseSource === 'extension') {
		return { path: marked.path, foundBy: 'special-use' };
	}
	const named = marked ?? folders.find((f) => f.path === usualName);
	return named ? { path: named.path, foundBy: 'name' } : { path: null, foundBy: null };
}

/** Reads the facts of the inbox's server; changes nothing on it. */
export async function readImapFacts(inbox: InboxClient): Promise<ImapFacts> {
	const folders = await inbox.folders();
	const sent = findFolder(folders, '\\Sent', 'Sent');
	const trash = findFolder(folders, '\\Trash', 'Trash');
	const search = [await probeSearch(inbox, 'INBOX')];
	if (sent.path) search.push(await probeSearch(inbox, sent.path));
	// imapflow keeps the answer to ID on the client without typing it.
	const info = (inbox.imap as unknown as { serverInfo?: Record<string, unknown> | null })
		.serverInfo;
	return {
		capabilities: [...inbox.imap.capabilities.keys()].sort(),
		server: info ? Object.fromEntries(Object.entries(info).map(([k, v]) => [k, String(v)])) : null,
		folders: folders.map((f) => f.path),
		sent,
		trash,
		search,
	};
}
