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
		let uids: number[] = [];
		for (const m of messages) {
			const appended = await client.append(folder, m.raw, m.flags ?? [], m.date);
			if (!appended) throw new Error(`APPEND to ${folder} failed`);
			uids.push(appended.uid ?? 0);
		}
		// Without UIDPLUS an APPEND gives no UID: the folder holds only these, in order.
		if (uids.includes(0)) {
			await client.mailboxOpen(folder, { readOnly: true });
			uids = (await client.fetchAll('1:*', { uid: true })).map((m) => m.uid);
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

/** A raw message; `attachment` makes it multipart/mixed with a small text file. */
export function mail(
	n: number,
	from: string,
	subject: string,
	body: string,
	extra: { headers?: string[]; attachment?: boolean } = {},
): { raw: string; messageId: string } {
	const messageId = `<m${n}.${Math.random().toString(36).slice(2)}@outside.example>`;
	const head = [
		`From: ${from}`,
		'To: Agent <agent@agentmail.test>',
		`Subject: ${subject}`,
		`Message-ID: ${messageId}`,
		'Date: Tue, 24 Nov 2026 10:00:00 +0000',
		'MIME-Version: 1.0',
		...(extra.headers ?? []),
	];
	const raw = extra.attachment
		? [
				...head,
				'Content-Type: multipart/mixed; boundary="b1"',
				'',
				'--b1',
				'Content-Type: text/plain; charset=utf-8',
				'',
				body,
				'--b1',
				'Content-Type: text/plain; name="notes.txt"',
				'Content-Disposition: attachment; filename="notes.txt"',
				'',
				'attached notes',
				'--b1--',
				'',
			]
		: [...head, 'Content-Type: text/plain; charset=utf-8', '', body, ''];
	return { raw: raw.join('\r\n'), messageId };
}
