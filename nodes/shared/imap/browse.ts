/**
 * "Fetch test event": the newest message of a folder, read-only, touching no flag and no
 * watermark. When the folder is empty it waits (IDLE) for the next message, up to a limit.
 *
 * Plain module: no n8n imports.
 */
import { ImapFlow, type ImapFlowOptions } from 'imapflow';

import { imapOptions, type AgentMailConnection } from '../connection';
import { describeConnectionError } from '../connectionErrors';
import type { FetchedMessage } from './session';

/** How long a test fetch waits for mail to arrive in an empty folder. */
export const TEST_WAIT_MS = 120_000;

/** Something that prevents a one-off read; `message` is for the user. */
export class BrowseError extends Error {
	constructor(message: string) {
		super(message);
		this.name = 'BrowseError';
	}
}

export interface NewestOptions {
	waitMs?: number;
	maxMessageBytes?: number;
	createClient?: (options: ImapFlowOptions) => ImapFlow;
}

/** A logged-in client for one short look; a failure is worded for the user. */
export async function openClient(
	connection: AgentMailConnection,
	createClient: (options: ImapFlowOptions) => ImapFlow = (o) => new ImapFlow(o),
): Promise<ImapFlow> {
	const client = createClient(imapOptions(connection, { disableAutoIdle: true }));
	client.on('error', () => undefined);
	const failure = await client.connect().then(
		() => undefined,
		(error: unknown) => error ?? new Error('the connection failed'),
	);
	if (failure !== undefined) {
		client.close();
		throw new BrowseError(describeConnectionError(failure, 'IMAP', connection).message);
	}
	return client;
}

/** Returns the newest message of `folder`, or null if none arrived within the wait. */
export async function fetchNewest(
	connection: AgentMailConnection,
	folder: string,
	options: NewestOptions = {},
): Promise<FetchedMessage | null> {
	const client = await openClient(connection, options.createClient);
	try {
		// Read-only (EXAMINE): nothing this does can change a flag.
		const mailbox = await client.mailboxOpen(folder, { readOnly: true }).catch(() => null);
		if (!mailbox) {
			throw new BrowseError(`The folder "${folder}" does not exist in ${connection.email}.`);
		}
		if (mailbox.exists === 0) {
			const arrived = new Promise<boolean>((resolve) => {
				const timer = setTimeout(() => resolve(false), options.waitMs ?? TEST_WAIT_MS);
				client.once('exists', () => {
					clearTimeout(timer);
					resolve(true);
				});
			});
			void client.idle().catch(() => undefined);
			if (!(await arrived)) return null;
		}
		const meta = await client.fetchOne('*', {
			uid: true,
			flags: true,
			size: true,
			internalDate: true,
			envelope: true,
			headers: true,
		});
		if (!meta) return null;
		const size = meta.size ?? 0;
		let source: Buffer | undefined;
		if (!options.maxMessageBytes || size <= options.maxMessageBytes) {
			const full = await client.fetchOne(String(meta.uid), { source: true }, { uid: true });
			source = full ? full.source : undefined;
		}
		return {
			uid: meta.uid,
			uidValidity: String(mailbox.uidValidity),
			folder,
			messageId: meta.envelope?.messageId ?? null,
			flags: [...(meta.flags ?? [])],
			size,
			internalDate: meta.internalDate ? new Date(meta.internalDate) : null,
			source,
			headers: meta.headers ?? Buffer.alloc(0),
		};
	} finally {
		await client.logout().catch(() => client.close());
	}
}

/** Folder names of the inbox, for the node's folder list (\Noselect ones left out). */
export async function listFolders(
	connection: AgentMailConnection,
	createClient?: (options: ImapFlowOptions) => ImapFlow,
): Promise<string[]> {
	const client = await openClient(connection, createClient);
	try {
		const folders = await client.list();
		return folders.filter((f) => !f.flags?.has('\\Noselect')).map((f) => f.path);
	} finally {
		await client.logout().catch(() => client.close());
	}
}
