/**
 * "Fetch test event": the newest message of a folder, read-only, touching no flag and no
 * watermark. When the folder is empty it waits (IDLE) for the next message, up to a limit.
 */
import type { AgentMailConnection } from '../connection';
import { ServerError } from '../errors';
import type { FetchedMessage } from '../fetchedMessage';
import { withClient, type ClientFactory } from './connect';

/** How long a test fetch waits for mail to arrive in an empty folder. */
const TEST_WAIT_MS = 120_000;

export interface NewestOptions {
	waitMs?: number;
	maxMessageBytes?: number;
	createClient?: ClientFactory;
}

/** Returns the newest message of `folder`, or null if none arrived within the wait. */
export async function fetchNewest(
	connection: AgentMailConnection,
	folder: string,
	options: NewestOptions = {},
): Promise<FetchedMessage | null> {
	return await withClient(
		connection,
		async (client) => {
			// Read-only (EXAMINE): nothing this does can change a flag.
			const mailbox = await client.mailboxOpen(folder, { readOnly: true }).catch(() => null);
			if (!mailbox) {
				throw new ServerError(`The folder "${folder}" does not exist in ${connection.email}.`);
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
		},
		options.createClient,
	);
}
