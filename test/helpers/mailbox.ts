/**
 * Test folders of their own: a fresh folder per test, filled over IMAP APPEND, so tests that
 * read, flag, move or delete mail can count exactly while other test files use the same inbox.
 */
import { randomUUID } from 'node:crypto';

import { imapClient } from './sandbox';

/** One message to put in a folder: its raw text and flags. */
export interface SeedMessage {
	raw: string | Buffer;
	flags?: string[];
	/** The internal (arrival) date; SINCE and BEFORE search on it. */
	date?: Date;
}

/** Creates a folder named `<prefix>-<random>` in the inbox and appends the messages, in order. */
export async function seedFolder(
	address: string,
	prefix: string,
	messages: SeedMessage[],
): Promise<{ folder: string; uids: number[]; uidValidity: string }> {
	const folder = `${prefix}-${randomUUID().slice(0, 8)}`;
	const client = await imapClient(address);
	try {
		await client.mailboxCreate(folder);
		const uids: number[] = [];
		for (const m of messages) {
			const appended = await client.append(folder, m.raw, m.flags ?? [], m.date);
			if (!appended || !appended.uid) throw new Error(`APPEND to ${folder} gave no UID`);
			uids.push(appended.uid);
		}
		const status = await client.status(folder, { uidValidity: true });
		if (!status) throw new Error(`STATUS ${folder} failed`);
		return { folder, uids, uidValidity: String(status.uidValidity) };
	} finally {
		await client.logout();
	}
}

/** Deletes a folder and creates it again empty: the server gives it a new UIDVALIDITY. */
export async function recreateFolder(address: string, folder: string): Promise<void> {
	const client = await imapClient(address);
	try {
		await client.mailboxDelete(folder);
		await client.mailboxCreate(folder);
	} finally {
		await client.logout();
	}
}
