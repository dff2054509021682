/**
 * Runs an IMAP operation for every item over one IMAP connection per inbox the items name
 * (usually one: the credential's), opened at the first item and logged out at the end, also
 * when an item failed. Items run one after another, in order; each fails on its own
 * (Continue On Fail) and every output item keeps the pairedItem of the item it came from.
 */
import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

import type { AgentMailConnection } from '../../shared/connection';
import { ImapClients } from '../transport';
import { explain, toNodeError } from './errors';
import { readInboxes } from './inboxes';
import type { ImapOperation } from './interfaces';

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
				const worded = connection ? explain(error, duringItem(connection)) : error;
				const nodeError = toNodeError(this, worded, i, 'Nothing was changed.');
				if (!this.continueOnFail()) throw nodeError;
				output.push({ json: { error: nodeError.message }, pairedItem: { item: i } });
			}
		}
	} finally {
		await clients.closeAll();
	}
	return [output];
}

/** A failure of the item's IMAP connection, worded; the next item opens a new one if needed. */
function duringItem(connection: AgentMailConnection): (cause: string) => string {
	return (cause) =>
		`The IMAP connection to ${connection.email} failed during this item (${cause}). Run it again: reading and flag changes are safe to repeat; a message moved or deleted before the connection broke is no longer at its UID, and the item then says so.`;
}
