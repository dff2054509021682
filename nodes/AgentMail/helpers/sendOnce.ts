/**
 * Send once in the node: before the first message of an execution goes out, the keys of all
 * its items are read, and one IMAP connection per inbox they send from looks up in Sent which
 * of them this node already sent (nodes/shared/smtp/sendOnce.ts). Those items output `alreadySent: true` and send
 * nothing; so do later items of the same execution with a key already sent in it. Every item
 * with a key says how Sent was checked (`sendOnceCheck`), and warns when the check could not
 * read all of Sent (a server without HEADER search, and more mail in Sent than it reads).
 */
import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';

import { settle } from '../../shared/async';
import type { AgentMailConnection } from '../../shared/connection';
import { withClient } from '../../shared/imap/connect';
import type { OutgoingMessage } from '../../shared/smtp/compose';
import { errorText, ServerError } from '../../shared/errors';
import { inboxKey } from '../transport';
import {
	lookupSent,
	RECENT_SENT_SCANNED,
	SEND_ONCE_HEADER,
	SEND_ONCE_MARK,
	sendOnceIdentity,
	type SendOnceIdentity,
	type SentCopy,
	type SentLookup,
} from '../../shared/smtp/sendOnce';

/** What the router knows about send once for one execution. */
export class SendOnceBatch {
	/** Identities by item index; items without a key have none. */
	private readonly identities = new Map<number, SendOnceIdentity>();
	/** Copies found in Sent, by hash (the hash includes the inbox). */
	private readonly found = new Map<string, SentCopy>();
	/** Hashes sent by this execution, by the item that sent them. */
	private readonly sentNow = new Map<string, number>();
	/** Why the lookup failed, by inbox; then its items with a key fail, sending nothing. */
	private readonly lookupErrors = new Map<string, string>();
	/** The inbox each keyed item sends from (lower case). */
	private readonly inboxes = new Map<number, string>();
	/** How each inbox's Sent was checked, and the warning its items carry when not all of it. */
	private readonly checks = new Map<string, IDataObject>();

	/**
	 * Reads every item's key (`keyOf`, null when send once is off for it) and looks the keys up
	 * in Sent, one IMAP connection per inbox the items send from (`connectionOf`). Nothing is
	 * opened when no item has a key.
	 */
	static async prepare(
		ctx: IExecuteFunctions,
		connectionOf: (i: number) => AgentMailConnection,
		count: number,
		keyOf: (i: number) => string | null,
		/** A Message-ID of the operation's own for item `i` (Send and Wait's reply token). */
		messageIdOf?: (i: number, connection: AgentMailConnection) => string | undefined,
	): Promise<SendOnceBatch> {
		const batch = new SendOnceBatch();
		// One node, one scope: two nodes that answer the same message do not silence each other.
		const scope = `${ctx.getWorkflow().id ?? 'unsaved'}:${ctx.getNode().id}`;
		const byInbox = new Map<string, { connection: AgentMailConnection; ids: SendOnceIdentity[] }>();
		for (let i = 0; i < count; i++) {
			// A key or inbox that cannot be read fails its item later, with the operation's own error.
			const read = await settle(
				Promise.resolve().then(() => {
					const key = keyOf(i);
					// The inbox only matters, and is only read, for an item with a key.
					return key ? { key, connection: connectionOf(i) } : null;
				}),
			);
			if (!read.ok || !read.value) continue;
			const { key, connection } = read.value;
			const own = messageIdOf?.(i, connection);
			// Looked up in Sent by that Message-ID too, so a server that drops the hash header still finds it.
			const identity = {
				...sendOnceIdentity(connection.email, scope, key),
				...(own ? { messageId: own } : {}),
			};
			const inbox = inboxKey(connection);
			batch.identities.set(i, identity);
			batch.inboxes.set(i, inbox);
			const group = byInbox.get(inbox) ?? { connection, ids: [] };
			group.ids.push(identity);
			byInbox.set(inbox, group);
		}
		const partial: string[] = [];
		for (const [inbox, { connection, ids }] of byInbox) {
			const looked = await settle(withClient(connection, (client) => lookupSent(client, ids)));
			if (!looked.ok) {
				batch.lookupErrors.set(inbox, errorText(looked.error));
				continue;
			}
			for (const [hash, copy] of looked.value.found) batch.found.set(hash, copy);
			const warning = partialWarning(connection.email, looked.value);
			batch.checks.set(inbox, {
				sendOnceCheck: looked.value.check,
				...(warning ? { sendOnceWarning: warning } : {}),
			});
			if (warning) partial.push(warning);
		}
		// Once per execution, not per item: the items carry it too.
		for (const warning of partial) ctx.logger.warn(`Send Once: ${warning}`);
		return batch;
	}

	/**
	 * How item `i`'s Sent folder was checked (`sendOnceCheck`, and `sendOnceWarning` when not
	 * all of it was read), for its output; empty for an item without a key.
	 */
	checkOf(i: number): IDataObject {
		if (!this.identities.has(i)) return {};
		return this.checks.get(this.inboxes.get(i) ?? '') ?? {};
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
		const lookupError = this.lookupErrors.get(this.inboxes.get(i) ?? '');
		if (lookupError !== undefined) {
			throw new ServerError(
				`Send Once could not look in the Sent folder for what this node already sent: ${lookupError}. Nothing was sent for this item; run it again, or turn off Send Once to send without the check.`,
			);
		}
		const copy = this.found.get(identity.hash);
		if (copy) {
			return {
				sent: false,
				alreadySent: true,
				messageId: copy.messageId ?? identity.messageId,
				sentCopy: { ...copy },
				sendOnceCheck: this.checkOf(i).sendOnceCheck,
			};
		}
		const item = this.sentNow.get(identity.hash);
		if (item === undefined) return undefined;
		return {
			sent: false,
			alreadySent: true,
			messageId: identity.messageId,
			sentByItem: item,
			sendOnceCheck: this.checkOf(i).sendOnceCheck,
		};
	}

	/** Records that item `i` went out, so a later item with the same key does not. */
	markSent(i: number): void {
		const identity = this.identities.get(i);
		if (identity) this.sentNow.set(identity.hash, i);
	}
}

/** What a lookup that could not read all of Sent warns, or undefined when it read enough. */
function partialWarning(inbox: string, lookup: SentLookup): string | undefined {
	if (lookup.check !== 'recent-headers' || lookup.unchecked === 0) return undefined;
	return `The IMAP server of ${inbox} does not search mail headers (it refused or ignored the search), so only the newest ${RECENT_SENT_SCANNED} messages of "${lookup.folder}" were checked for an earlier copy; ${lookup.unchecked} older ones were not, and a copy among them would not stop a second send.`;
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
		headers: {
			...message.headers,
			[SEND_ONCE_HEADER]: identity.hash,
			[SEND_ONCE_MARK]: identity.hash,
		},
	};
}
