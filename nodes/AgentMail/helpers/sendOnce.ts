/**
 * Send once in the node: before the first message of an execution goes out, the keys of all
 * its items are read, and one IMAP connection looks up in Sent which of them this node already
 * sent (nodes/shared/smtp/sendOnce.ts). Those items output `alreadySent: true` and send
 * nothing; so do later items of the same execution with a key already sent in it.
 */
import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';

import { settle } from '../../shared/async';
import type { AgentMailConnection } from '../../shared/connection';
import { openClient } from '../../shared/imap/browse';
import type { OutgoingMessage } from '../../shared/smtp/compose';
import { LimitError } from '../../shared/smtp/limits';
import {
	findSent,
	sendOnceIdentity,
	type SendOnceIdentity,
	type SentCopy,
} from '../../shared/smtp/sendOnce';

/** The header as written on the wire (SEARCH matches header names case-insensitively). */
const SEND_ONCE_HEADER_NAME = 'X-AgentMail-Send-Once';

/** What the router knows about send once for one execution. */
export class SendOnceBatch {
	/** Identities by item index; items without a key have none. */
	private readonly identities = new Map<number, SendOnceIdentity>();
	/** Copies found in Sent, by hash. */
	private found = new Map<string, SentCopy>();
	/** Hashes sent by this execution, by the item that sent them. */
	private readonly sentNow = new Map<string, number>();
	/** Why the lookup failed; then every item with a key fails with it, sending nothing. */
	private lookupError?: string;

	/**
	 * Reads every item's key (`keyOf`, null when send once is off for it) and looks the keys up
	 * in Sent over one IMAP connection. Nothing is opened when no item has a key.
	 */
	static async prepare(
		ctx: IExecuteFunctions,
		connection: AgentMailConnection,
		count: number,
		keyOf: (i: number) => string | null,
	): Promise<SendOnceBatch> {
		const batch = new SendOnceBatch();
		// One node, one scope: two nodes that answer the same message do not silence each other.
		const scope = `${ctx.getWorkflow().id ?? 'unsaved'}:${ctx.getNode().id}`;
		for (let i = 0; i < count; i++) {
			// A key that cannot be read fails its item later, with the operation's own error.
			const key = await settle(Promise.resolve().then(() => keyOf(i)));
			if (key.ok && key.value) {
				batch.identities.set(i, sendOnceIdentity(connection.email, scope, key.value));
			}
		}
		if (batch.identities.size === 0) return batch;
		const looked = await settle(
			(async () => {
				const client = await openClient(connection);
				try {
					return await findSent(client, [...batch.identities.values()]);
				} finally {
					await client.logout().catch(() => client.close());
				}
			})(),
		);
		if (looked.ok) batch.found = looked.value;
		else batch.lookupError = String((looked.error as Error)?.message ?? looked.error);
		return batch;
	}

	/** The identity item `i` is sent with, if send once is on for it. */
	identityOf(i: number): SendOnceIdentity | undefined {
		return this.identities.get(i);
	}

	/**
	 * What item `i` outputs instead of sending, when it must not be sent: its earlier copy.
	 * Throws when the lookup failed (sending could then deliver it twice).
	 */
	alreadySent(i: number): IDataObject | undefined {
		const identity = this.identities.get(i);
		if (!identity) return undefined;
		if (this.lookupError !== undefined) {
			throw new LimitError(
				`Send Once could not look in the Sent folder for what this node already sent: ${this.lookupError}. Nothing was sent for this item; run it again, or turn off Send Once to send without the check.`,
			);
		}
		const copy = this.found.get(identity.hash);
		if (copy) {
			return {
				sent: false,
				alreadySent: true,
				messageId: copy.messageId ?? identity.messageId,
				sentCopy: { ...copy },
			};
		}
		const item = this.sentNow.get(identity.hash);
		if (item === undefined) return undefined;
		return { sent: false, alreadySent: true, messageId: identity.messageId, sentByItem: item };
	}

	/** Records that item `i` went out, so a later item with the same key does not. */
	markSent(i: number): void {
		const identity = this.identities.get(i);
		if (identity) this.sentNow.set(identity.hash, i);
	}
}

/** The message with the identity send once gives it. */
export function withIdentity(
	message: OutgoingMessage,
	identity: SendOnceIdentity | undefined,
): OutgoingMessage {
	if (!identity) return message;
	return {
		...message,
		messageId: identity.messageId,
		headers: { ...message.headers, [SEND_ONCE_HEADER_NAME]: identity.hash },
	};
}
