/**
 * Runs the chosen operation for every item over one SMTP session per inbox it sends from
 * (usually one: the credential's), closed at the end.
 * Each item fails on its own (continueOnFail) and keeps its pairedItem.
 *
 * Items go out one after another, in order, but the next item is read and built while the
 * server works on the previous one's body: n8n evaluates an item's expressions synchronously,
 * and that time would otherwise add to every message. Not earlier: reading the next item
 * while MAIL FROM, RCPT TO, DATA or the body itself are under way would hold those up instead
 * (measured in the bench's send phase: about 2 ms per message).
 */
import { setImmediate as nextTurn } from 'node:timers/promises';

import type { IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

import { SendError } from '../../shared/errors';
import { settle } from '../../shared/async';
import { deliver } from './deliver';
import { toNodeError } from './errors';
import { readInboxes } from './inboxes';
import type { OperationContext, SmtpOperation } from './interfaces';
import { ImapClients, SmtpSessions } from '../transport';
import { SendOnceBatch } from './sendOnce';
import { readBackOutputs, type SentRecord } from './sentReadBack';

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
	const contextOf = (i: number): OperationContext => {
		const connection = connectionOf(i);
		return {
			connection,
			session: sessions.get(connection),
			sendOnce,
			imap: async () => await imapClients.get(connection),
		};
	};
	const output: INodeExecutionData[] = [];
	// What went out, for the read-back from Sent.
	const sentRecords: SentRecord[] = [];
	let completed = false;
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
	// The send in flight; settled (never rejected) so that a failure waits for its turn.
	// `bodySent`: its whole body is on the way to the server, or it has ended (sent, failed or
	// only validated).
	let inFlight:
		| {
				i: number;
				outcome: ReturnType<typeof settle<IDataObject>>;
				bodySent: Promise<unknown>;
				record: Omit<SentRecord, 'json'>;
		  }
		| undefined;
	const finishInFlight = async (): Promise<void> => {
		if (!inFlight) return;
		const { i, outcome, record } = inFlight;
		inFlight = undefined;
		const result = await outcome;
		if (result.ok) {
			// With a send once key, the item says how Sent was checked before it went out.
			const json = { ...result.value, ...sendOnce.checkOf(i) };
			if (result.value.sent === true) {
				sendOnce.markSent(i);
				sentRecords.push({ ...record, json });
			}
			output.push({ json, pairedItem: { item: i } });
		} else fail(result.error, i);
	};
	try {
		for (let i = 0; i < items.length; i++) {
			if (inFlight) await inFlight.bodySent;
			const identity = sendOnce.identityOf(i);
			if (identity) {
				// The same key as the item in flight: whether that one went out decides this one.
				if (inFlight && sendOnce.identityOf(inFlight.i)?.hash === identity.hash) {
					await finishInFlight();
				}
				const earlier = await settle(Promise.resolve().then(() => sendOnce.alreadySent(i)));
				if (!earlier.ok || earlier.value) {
					// Output stays in item order.
					await finishInFlight();
					if (earlier.ok) output.push({ json: earlier.value!, pairedItem: { item: i } });
					else fail(earlier.error, i);
					continue;
				}
			}
			const context = await settle(Promise.resolve().then(() => contextOf(i)));
			if (!context.ok) {
				await finishInFlight();
				fail(context.error, i);
				continue;
			}
			const prepared = await settle(run.execute.call(this, i, context.value));
			// The previous item's outcome first: output stays in item order, and after a failure
			// (without continueOnFail) nothing more is sent.
			await finishInFlight();
			if (!prepared.ok) {
				fail(prepared.error, i);
				continue;
			}
			const { composed, validateOnly, output: extra } = prepared.value;
			let bodyRead!: () => void;
			// The connection writes the body's end mark after it has read the body, in the same
			// turn: the next turn is when the whole body is on its way.
			const bodySent = new Promise<void>((resolve) => (bodyRead = resolve)).then(() => nextTurn());
			const outcome = settle(
				deliver(composed, context.value, validateOnly, bodyRead).then((json) => ({
					...json,
					...extra,
				})),
			);
			inFlight = {
				i,
				outcome,
				bodySent: Promise.race([bodySent, outcome]),
				record: {
					composed,
					connection: context.value.connection,
					hash: sendOnce.identityOf(i)?.hash,
				},
			};
		}
		await finishInFlight();
		completed = true;
	} finally {
		await Promise.all([sessions.closeAll(), imapClients.closeAll()]);
		// When the execution fails, only to wait until what went out is in Sent, so that a retry
		// looking there finds it.
		if (run.readBackSent) await readBackOutputs(this, sentRecords, !completed);
	}
	return [output];
}
