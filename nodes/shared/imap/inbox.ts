/**
 * One inbox as the action node sees it during one execution: its folders (listed once),
 * which folder is selected, and what the server supports. Searching and reading are in
 * ./search.ts and ./messages.ts, changing messages in ./actions.ts.
 */
import type { ImapFlow, ListResponse } from 'imapflow';

import { errorText, InputError, ServerError } from '../errors';
import { closeClient } from './connect';

/** A folder with its counts (IMAP STATUS). */
export interface FolderStatus {
	/** The full path, as IMAP names it (the value for a Folder parameter). */
	path: string;
	/** The last part of the path. */
	name: string;
	/** `\Sent`, `\Trash`, `\Junk`, `\Drafts`, ... or null. */
	specialUse: string | null;
	total: number | null;
	unread: number | null;
	/** The UID the next message will get. */
	uidNext: number | null;
	/** With the UIDs of its messages, names one message for good (as a string: a 64-bit value). */
	uidValidity: string | null;
	/** Said of folders AgentMail does not really keep (its Drafts). */
	note?: string;
}

/** The selected folder. */
export interface SelectedFolder {
	path: string;
	uidValidity: string;
	/** Messages in it when it was selected; mail may arrive while it stays selected. */
	exists: number;
	writable: boolean;
}

/** AgentMail lists a Drafts folder that is always empty and cannot be written. */
export const DRAFTS_NOTE =
	'AgentMail keeps no drafts: its Drafts folder is always empty and cannot be written. To check a message without sending it, use Message → Send with Validate Only.';

/** The folder LIST marks with `use` (`\Sent`, `\Trash`), else the one called `usualName`. */
export function findSpecialFolder(
	folders: ListResponse[],
	use: string,
	usualName: string,
): string | undefined {
	return (folders.find((f) => f.specialUse === use) ?? folders.find((f) => f.path === usualName))
		?.path;
}

/** INBOX is the one name IMAP compares without regard to case (RFC 3501, 5.1). */
const INBOX = 'INBOX';

export class InboxClient {
	/** LIST is asked once per execution: folders do not come and go between items. */
	private folderList?: ListResponse[];
	/** What is selected, so that items on the same folder do not SELECT again. */
	private selected?: SelectedFolder;

	constructor(
		/** The logged-in client of this inbox, for this execution only. */
		private readonly client: ImapFlow,
		/** The inbox address, for messages to the user. */
		readonly address: string,
	) {}

	/** The raw client, for the stages that search, read and change messages. */
	get imap(): ImapFlow {
		return this.client;
	}

	/** False once the connection has ended: the execution then opens a new one. */
	get usable(): boolean {
		return this.client.usable;
	}

	/** Whether the server announced an extension, e.g. 'UIDPLUS'. */
	supports(capability: string): boolean {
		return this.client.capabilities.has(capability);
	}

	/** The selectable folders, as listed by the server. */
	async folders(): Promise<ListResponse[]> {
		if (!this.folderList) {
			const listed = await this.client.list();
			this.folderList = listed.filter((f) => !f.flags?.has('\\Noselect'));
		}
		return this.folderList;
	}

	/**
	 * The path of a folder the user named; INBOX in any case, other names exactly.
	 *
	 * @throws InputError when none is named, ServerError naming the folders there are when it
	 * does not exist.
	 */
	async resolveFolder(name: string): Promise<string> {
		const wanted = String(name ?? '').trim();
		if (!wanted) {
			throw new InputError(`No folder given: choose one of ${await this.folderNames()}.`);
		}
		if (wanted.toUpperCase() === INBOX) return INBOX;
		const folders = await this.folders();
		if (folders.some((f) => f.path === wanted)) return wanted;
		const other = folders.find((f) => f.path.toLowerCase() === wanted.toLowerCase());
		const hint = other
			? ` Did you mean "${other.path}"? Names other than INBOX are case-sensitive.`
			: '';
		throw new ServerError(
			`The folder "${wanted}" does not exist in ${this.address}.${hint} Choose one of ${await this.folderNames()}.`,
		);
	}

	/** The folder with a special use (`\Trash`, `\Junk`), else the one of that usual name. */
	async specialFolder(use: string, usualName: string): Promise<string> {
		const found = findSpecialFolder(await this.folders(), use, usualName);
		if (found === undefined) {
			throw new ServerError(
				`${this.address} has no ${usualName} folder (none marked ${use}): choose a folder from ${await this.folderNames()}.`,
			);
		}
		return found;
	}

	/**
	 * Selects a folder the user named (read-only unless `write`), unless it is selected already.
	 *
	 * @throws ServerError when it does not exist or cannot be opened.
	 */
	async select(name: string, write = false): Promise<SelectedFolder> {
		const path = await this.resolveFolder(name);
		const current = this.selected;
		// The server may have closed the folder meanwhile (a dropped connection selects none).
		if (current && current.path === path && (current.writable || !write) && this.client.mailbox) {
			return current;
		}
		const mailbox = await this.client.mailboxOpen(path, { readOnly: !write }).catch((error) => {
			throw new ServerError(
				`The folder "${path}" of ${this.address} could not be opened: ${errorText(error)}.`,
			);
		});
		this.selected = {
			path,
			uidValidity: String(mailbox.uidValidity),
			exists: mailbox.exists,
			writable: !mailbox.readOnly,
		};
		return this.selected;
	}

	/** Every folder with its total, unread and next UID (LIST-STATUS, or STATUS per folder). */
	async folderStatus(): Promise<FolderStatus[]> {
		const listed = await this.client.list({
			statusQuery: { messages: true, unseen: true, uidNext: true, uidValidity: true },
		});
		this.folderList = listed.filter((f) => !f.flags?.has('\\Noselect'));
		return this.folderList.map((f) => ({
			path: f.path,
			name: f.name,
			specialUse: f.specialUse ?? null,
			total: f.status?.messages ?? null,
			unread: f.status?.unseen ?? null,
			uidNext: f.status?.uidNext ?? null,
			uidValidity: f.status?.uidValidity !== undefined ? String(f.status.uidValidity) : null,
			...(f.specialUse === '\\Drafts' || f.path === 'Drafts' ? { note: DRAFTS_NOTE } : {}),
		}));
	}

	/** Logs out; never throws. */
	async close(): Promise<void> {
		await closeClient(this.client);
	}

	private async folderNames(): Promise<string> {
		return (await this.folders()).map((f) => f.path).join(', ');
	}
}
