/**
 * After an execution has sent its items: their copies read back from Sent (one IMAP
 * connection per inbox, waiting a bounded time for copies stored late), so that each item
 * outputs the Message-ID its recipients see, or says plainly that it is unknown, and a Send
 * Once item warns when a retry could not recognise it (nodes/shared/smtp/sentCopy.ts).
 */
import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';

import { settle } from '../../shared/async';
import type { AgentMailConnection } from '../../shared/connection';
import { errorText } from '../../shared/errors';
import { withClient } from '../../shared/imap/connect';
import { findHeaderEnd, fieldValues, parseDate, parseHeaderBlock } from '../../shared/mime/headers';
import type { ComposedMessage } from '../../shared/smtp/compose';
import {
	behaviourOf,
	knownBehaviour,
	readBackSent,
	rememberBehaviour,
	SENT_COPY_WAIT_MS,
	serverKey,
	type SentMessage,
} from '../../shared/smtp/sentCopy';

/** One item that went out, and its output to complete. */
export interface SentRecord {
	composed: ComposedMessage;
	connection: AgentMailConnection;
	/** Its send once hash, when it has one. */
	hash?: string;
	json: IDataObject;
}

function sentMessage(record: SentRecord): SentMessage {
	const { composed } = record;
	const head = composed.raw.subarray(0, findHeaderEnd(composed.raw).headerEnd);
	const date = fieldValues(parseHeaderBlock(head), 'date')[0];
	const parsed = date ? parseDate(date) : null;
	return {
		messageId: composed.messageId,
		hash: record.hash,
		subject: composed.subject,
		date: parsed ? Date.parse(parsed) : null,
		recipients: [...composed.to, ...composed.cc].map((m) => m.address),
		inReplyTo: composed.inReplyTo ?? null,
	};
}

/**
 * Completes the outputs of `records` from their Sent copies. `sendOnceOnly`: only Send Once
 * items, and only to wait for their copies (an execution that failed, so that its retry finds
 * what went out). Never throws: what cannot be read is said in the items.
 */
export async function readBackOutputs(
	ctx: IExecuteFunctions,
	records: SentRecord[],
	sendOnceOnly = false,
): Promise<void> {
	const groups = new Map<string, SentRecord[]>();
	for (const record of records) {
		if (sendOnceOnly && !record.hash) continue;
		const { email, smtpHost, smtpPort } = record.connection;
		const key = serverKey(email, smtpHost, smtpPort);
		groups.set(key, [...(groups.get(key) ?? []), record]);
	}
	const warnings = new Set<string>();
	for (const [key, group] of groups) {
		const before = knownBehaviour(key);
		// This server kept our Message-IDs before: only Send Once items need their copy seen.
		if (before === 'keeps-message-id' && !group.some((record) => record.hash)) continue;
		// A server that stored no copy before: one look, no wait on every execution.
		const waitMs = before === 'no-copy' ? 0 : SENT_COPY_WAIT_MS;
		const sent = group.map(sentMessage);
		const inbox = group[0].connection.email;
		const read = await settle(
			withClient(group[0].connection, (client) => readBackSent(client, sent, waitMs)),
		);
		if (!read.ok) {
			const note = `Not confirmed from the Sent folder of ${inbox}, which could not be read (${errorText(read.error)}): the server may have given the message a Message-ID of its own.`;
			for (const record of group) record.json.messageIdNote = note;
			continue;
		}
		const behaviour = behaviourOf(sent, read.value);
		if (behaviour) rememberBehaviour(key, behaviour);
		const where = `"${read.value.folder}" of ${inbox}`;
		const noCopy = `No copy of this message ${waitMs ? `appeared in ${where} within ${waitMs / 1000} s` : `is in ${where} (earlier messages left none either)`}`;
		const retry = `a retry of this node cannot recognise it and would send it again. Turn off Send Once here, or keep retries from repeating this node.`;
		const warn = (record: SentRecord, warning: string) => {
			record.json.sendOnceWarning = warning;
			warnings.add(warning);
		};
		group.forEach((record, index) => {
			const copy = read.value.copies.get(index);
			const written = record.composed.messageId;
			if (copy && copy.messageId && copy.messageId !== written) {
				record.json.messageId = copy.messageId;
				record.json.messageIdWritten = written;
			}
			if (copy && copy.by === 'contents' && record.hash) {
				warn(
					record,
					`The server removed the marks Send Once looks for (the Message-ID and the AgentMail-Send-Once header) from its copy in ${where}: ${retry}`,
				);
			}
			if (copy) return;
			if (!sendOnceOnly) {
				record.json.messageId = null;
				record.json.messageIdWritten = written;
				record.json.messageIdNote = `${noCopy}, so the Message-ID its recipients see is unknown: this server may replace the one the node wrote (messageIdWritten). Read it from the copy in Sent later, if one comes (Message → Get Many).`;
			}
			if (record.hash) {
				warn(
					record,
					`${noCopy}: Send Once cannot tell on this server what this node already sent; ${retry}`,
				);
			}
		});
	}
	// Once per execution, not per item: the items carry it too.
	for (const warning of warnings) ctx.logger.warn(`Send Once: ${warning}`);
}
