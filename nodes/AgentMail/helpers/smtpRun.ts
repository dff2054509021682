/**
 * Runs the chosen operation for every item over one SMTP session per inbox it sends from
 * (usually one: the credential's), closed at the end.
 * Each item fails on its own (continueOnFail) and keeps its pairedItem.
 *
 * Items go out through a SendPipeline (./sendPipeline): in order, the next item read and built
 * while the server receives the previous one's body, and not earlier.
 */
import type { IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

import { SendError } from '../../shared/errors';
import { settle } from '../../shared/async';
import { deliver } from './deliver';
import { toNodeError } from './errors';
import { readInboxes } from './inboxes';
import type { OperationContext, PreparedMessage, SmtpOperation } from './interfaces';
import { ImapClients, SmtpSessions } from '../transport';
import { SendOnceBatch } from './sendOnce';
import { SendPipeline } from './sendPipeline';
import { readBackOutputs, type SentRecord } from './sentReadBack';

/** What a send gives back: the item's output, and what went out for the read-back from Sent. */
interface Delivery {
	json: IDataObject;
	record: Omit<SentRecord, 'json'>;
}

export async function runSmtp(
	this: IExecuteFunctions,
	run: SmtpOperation,
): Promise<INodeExecutionData[][]> {
	const items = this.getInputData().slice(0, run.onlyFirstItem ? 1 : undefined);
	// Each item sends from its Inbox Address (the credential's inbox when empty).
	const connectionOf = await readInboxes(this, 'Nothing was sent.');
	const sendOnceKey = run.sendOnceKey;
	const messageIdOf = run.messageIdOf;
	const sendOnce = await SendOnceBatch.prepare(
		this,
		connectionOf,
		items.length,
		(i) => (sendOnceKey ? sendOnceKey.call(this, i) : null),
		messageIdOf && ((i, connection) => messageIdOf.call(this, i, connection)),
	);
	// One SMTP session per inbox an execution sends from, each opened at its first message.
	const sessions = new SmtpSessions({ logger: this.logger });
	// One IMAP connection per inbox, only for an operation that reads mail (Forward).
	const imapClients = new ImapClients();
	/** Reads and builds item i: where it is sent from, then the operation's message. */
	const build = async (
		i: number,
	): Promise<{ context: OperationContext; prepared: PreparedMessage }> => {
		const connection = connectionOf(i);
		const context: OperationContext = {
			connection,
			session: sessions.get(connection),
			sendOnce,
			imap: async () => await imapClients.get(connection),
		};
		return { context, prepared: await run.execute.call(this, i, context) };
	};
	const output: INodeExecutionData[] = [];
	// What went out, for the read-back from Sent.
	const sentRecords: SentRecord[] = [];
	const fail = (error: unknown, i: number): void => {
		const nodeError = toNodeError(this, error, i, 'Nothing was sent.');
		if (!this.continueOnFail()) throw nodeError;
		output.push({
			json: {
				error: nodeError.message,
				sent: false,
				...(error instanceof SendError
					? { delivered: error.delivered, responseCode: error.responseCode ?? null }
					: {}),
			},
			pairedItem: { item: i },
		});
	};
	const pipeline = new SendPipeline<Delivery>((i, outcome) => {
		if (!outcome.ok) return fail(outcome.error, i);
		const { json: sent, record } = outcome.value;
		// With a send once key, the item says how Sent was checked before it went out.
		const json = { ...sent, ...sendOnce.checkOf(i) };
		if (sent.sent === true) {
			sendOnce.markSent(i);
			sentRecords.push({ ...record, json });
		}
		output.push({ json, pairedItem: { item: i } });
	});
	let completed = false;
	try {
		for (let i = 0; i < items.length; i++) {
			// Item i is read only once the previous item's body is on its way.
			await pipeline.bodyOnTheWay();
			const identity = sendOnce.identityOf(i);
			if (identity) {
				// The same key as the item in flight: whether that one went out decides this one.
				const inFlight = pipeline.inFlightIndex;
				if (inFlight !== undefined && sendOnce.identityOf(inFlight)?.hash === identity.hash) {
					await pipeline.settle();
				}
				const earlier = await settle(Promise.resolve().then(() => sendOnce.alreadySent(i)));
				if (!earlier.ok || earlier.value) {
					// Output stays in item order.
					await pipeline.settle();
					if (earlier.ok) output.push({ json: earlier.value!, pairedItem: { item: i } });
					else fail(earlier.error, i);
					continue;
				}
			}
			const built = await settle(build(i));
			// The previous item's outcome first: output stays in item order, and after a failure
			// (without continueOnFail) nothing more is sent.
			await pipeline.settle();
			if (!built.ok) {
				fail(built.error, i);
				continue;
			}
			const { context, prepared } = built.value;
			const { composed, validateOnly, output: extra } = prepared;
			const record = { composed, connection: context.connection, hash: identity?.hash };
			pipeline.start(i, (bodyRead) =>
				deliver(composed, context, validateOnly, bodyRead).then((json) => ({
					json: { ...json, ...extra },
					record,
				})),
			);
		}
		await pipeline.settle();
		completed = true;
	} finally {
		await Promise.all([sessions.closeAll(), imapClients.closeAll()]);
		// When the execution fails, only to wait until what went out is in Sent, so that a retry
		// looking there finds it.
		if (run.readBackSent) await readBackOutputs(this, sentRecords, !completed);
	}
	return [output];
}
