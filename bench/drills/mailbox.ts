/**
 * Looking into and tidying the sandbox's mailboxes from outside n8n, over IMAP as the inbox's
 * owner: what is really stored (the truth the runs are counted against), and a clean INBOX
 * before each drill so that no drill sees another's mail.
 */
import type { ImapFlow } from 'imapflow';

import { imapClient } from '../../tools/sandbox/client';

/** The header the corpus drill tags messages with (their subjects are not unique). */
export const DRILL_ID_HEADER = 'X-Drill-Id';

/** Runs `use` with a logged-in client of an inbox (folders, APPEND), then logs out. */
export async function asOwner<T>(
	address: string,
	use: (client: ImapFlow) => Promise<T>,
): Promise<T> {
	const client = await imapClient(address);
	try {
		return await use(client);
	} finally {
		await client.logout().catch(() => client.close());
	}
}

/** Deletes every message of a folder (default INBOX). */
export async function emptyFolder(address: string, folder = 'INBOX'): Promise<void> {
	await asOwner(address, async (client) => {
		const mailbox = await client.mailboxOpen(folder);
		if (mailbox.exists > 0) await client.messageDelete('1:*');
	});
}

/**
 * How many copies of each message a folder holds, by subject (or by the drill-id header when
 * `byDrillId`): a message stored twice (a delivery retried after a crash) may run twice.
 */
export async function storedCopies(
	address: string,
	folder = 'INBOX',
	byDrillId = false,
): Promise<Map<string, number>> {
	return await asOwner(address, async (client) => {
		const copies = new Map<string, number>();
		const mailbox = await client.mailboxOpen(folder, { readOnly: true });
		if (mailbox.exists === 0) return copies;
		const messages = await client.fetchAll('1:*', {
			envelope: true,
			headers: byDrillId ? [DRILL_ID_HEADER] : undefined,
		});
		for (const message of messages) {
			const key = byDrillId
				? (message.headers?.toString('utf8').split(':').slice(1).join(':').trim() ?? '')
				: (message.envelope?.subject ?? '');
			copies.set(key, (copies.get(key) ?? 0) + 1);
		}
		return copies;
	});
}
