/** Errors of the protocol code, as n8n errors whose message says what is wrong and what to do. */
import { NodeOperationError, type IExecuteFunctions } from 'n8n-workflow';

import { AgentMailError, ConnectionError, errorText, SendError } from '../../shared/errors';

/** What an operation that failed before acting did not do, e.g. 'Nothing was sent.' */
export type NothingDone = 'Nothing was sent.' | 'Nothing was changed.';

/** Any error from an operation on item `i`, as an n8n error with a user-facing message. */
export function toNodeError(
	ctx: IExecuteFunctions,
	error: unknown,
	i: number,
	nothingDone: NothingDone,
): NodeOperationError {
	if (error instanceof NodeOperationError) return error;
	if (!(error instanceof AgentMailError)) {
		return new NodeOperationError(ctx.getNode(), error as Error, { itemIndex: i });
	}
	const description =
		error instanceof SendError
			? error.delivered === 'unknown'
				? 'Not retried automatically: a resend could deliver the message twice.'
				: undefined
			: nothingDone;
	return new NodeOperationError(ctx.getNode(), error.message, { itemIndex: i, description });
}

/**
 * An error that is not one of ours (a dropped connection, a command the server refused in a
 * way imapflow throws) worded for the user by `words`, which is given what it said; ours and
 * n8n's are already worded and pass as they are.
 */
export function explain(error: unknown, words: (cause: string) => string): unknown {
	if (error instanceof AgentMailError || error instanceof NodeOperationError) return error;
	return new ConnectionError(words(errorText(error)));
}
