/**
 * Runs an IMAP operation for every item over one IMAP connection per inbox the items name
 * (usually one: the credential's), opened at the first item and logged out at the end, also
 * when an item failed. Items run one after another, in order; each fails on its own
 * (Continue On Fail) and every output item keeps the pairedItem of the item it came from.
 */
import {
	NodeOperationError,
	type IDataObject,
	type IExecuteFunctions,
	type INodeExecutionData,
} from 'n8n-workflow';

import { CredentialError, type AgentMailConnection } from '../../shared/connection';
import { ImapError } from '../../shared/imap/connect';
import { LimitError } from '../../shared/smtp/limits';
import type { InboxClient } from '../../shared/imap/inbox';
import { ImapClients } from '../transport';
import { toNodeError } from './errors';
import { readInboxes } from './inboxes';

/** What an IMAP operation gives for one item: zero or more output items. */
export type ImapResult = Array<{ json: IDataObject; binary?: INodeExecutionData['binary'] }>;

export interface ImapOperation {
	execute(this: IExecuteFunctions, i: number, inbox: InboxClient): Promise<ImapResult>;
}

export async function runImap(
	this: IExecuteFunctions,
	operation: ImapOperation,
): Promise<INodeExecutionData[][]> {
	const items = this.getInputData();
	const connectionOf = await readInboxes(this, 'Nothing was changed.');
	const clients = new ImapClients();
	const output: INodeExecutionData[] = [];
	try {
		for (let i = 0; i < items.length; i++) {
			let connection: AgentMailConnection | undefined;
			try {
				connection = connectionOf(i);
				const inbox = await clients.get(connection);
				for (const result of await operation.execute.call(this, i, inbox)) {
					output.push({ ...result, pairedItem: { item: i } });
				}
			} catch (error) {
				const nodeError = toNodeError(this, explain(error, connection), i, 'Nothing was changed.');
				if (!this.continueOnFail()) throw nodeError;
				output.push({ json: { error: nodeError.message }, pairedItem: { item: i } });
			}
		}
	} finally {
		await clients.closeAll();
	}
	return [output];
}

/** Whether the error is one of ours, already worded for the user. */
export function isWorded(error: unknown): boolean {
	return (
		error instanceof ImapError ||
		error instanceof LimitError ||
		error instanceof CredentialError ||
		error instanceof NodeOperationError
	);
}

/**
 * An error that is not one of ours (a dropped connection, a command the server refused in a
 * way imapflow throws) worded for the user; the next item opens a new connection if needed.
 */
export function explain(error: unknown, connection: AgentMailConnection | undefined): unknown {
	if (!connection || isWorded(error)) return error;
	const cause = String((error as Error)?.message ?? error);
	return new ImapError(
		`The IMAP connection to ${connection.email} failed during this item (${cause}). Run it again: reading and flag changes are safe to repeat; a message moved or deleted before the connection broke is no longer at its UID, and the item then says so.`,
	);
}
