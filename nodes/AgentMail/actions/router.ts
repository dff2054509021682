/**
 * Runs the chosen operation for every item over one SMTP session, which is closed at the end.
 * Each item fails on its own (continueOnFail) and keeps its pairedItem.
 */
import {
	NodeOperationError,
	type IDataObject,
	type IExecuteFunctions,
	type INodeExecutionData,
} from 'n8n-workflow';

import { CredentialError, parseConnection } from '../../shared/connection';
import { LimitError } from '../../shared/smtp/limits';
import { SendError } from '../../shared/smtp/errors';
import { SmtpSession } from '../../shared/smtp/transport';
import type { OperationContext } from '../helpers/deliver';
import * as message from './message/Message.resource';

type Operation = (
	this: IExecuteFunctions,
	i: number,
	context: OperationContext,
) => Promise<IDataObject>;

const operations: Record<string, Record<string, Operation>> = {
	message: { send: message.send.execute, reply: message.reply.execute },
};

/** Any error from an operation, as an n8n error with a user-facing message. */
function toNodeError(ctx: IExecuteFunctions, error: unknown, i: number): NodeOperationError {
	if (error instanceof NodeOperationError) return error;
	if (error instanceof SendError) {
		return new NodeOperationError(ctx.getNode(), error.message, {
			itemIndex: i,
			description:
				error.delivered === 'unknown'
					? 'Not retried automatically: a resend could deliver the message twice.'
					: undefined,
		});
	}
	if (error instanceof LimitError || error instanceof CredentialError) {
		return new NodeOperationError(ctx.getNode(), error.message, {
			itemIndex: i,
			description: 'Nothing was sent.',
		});
	}
	return new NodeOperationError(ctx.getNode(), error as Error, { itemIndex: i });
}

export async function router(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const items = this.getInputData();
	const resource = this.getNodeParameter('resource', 0) as string;
	const operation = this.getNodeParameter('operation', 0) as string;
	const run = operations[resource]?.[operation];
	if (!run) {
		throw new NodeOperationError(
			this.getNode(),
			`The operation "${operation}" of "${resource}" is not supported.`,
		);
	}
	let connection;
	try {
		connection = parseConnection(await this.getCredentials('agentMailInboxApi'));
	} catch (error) {
		throw toNodeError(this, error, 0);
	}
	const session = new SmtpSession(connection, { logger: this.logger });
	const output: INodeExecutionData[] = [];
	try {
		for (let i = 0; i < items.length; i++) {
			try {
				const json = await run.call(this, i, { connection, session });
				output.push({ json, pairedItem: { item: i } });
			} catch (error) {
				const nodeError = toNodeError(this, error, i);
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
			}
		}
	} finally {
		await session.close();
	}
	return [output];
}
