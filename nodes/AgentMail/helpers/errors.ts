/** Errors of the protocol code, as n8n errors whose message says what is wrong and what to do. */
import { NodeOperationError, type IExecuteFunctions } from 'n8n-workflow';

import { CredentialError } from '../../shared/connection';
import { ImapError } from '../../shared/imap/connect';
import { SendError } from '../../shared/smtp/errors';
import { LimitError } from '../../shared/smtp/limits';

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
	if (error instanceof SendError) {
		return new NodeOperationError(ctx.getNode(), error.message, {
			itemIndex: i,
			description:
				error.delivered === 'unknown'
					? 'Not retried automatically: a resend could deliver the message twice.'
					: undefined,
		});
	}
	if (
		error instanceof LimitError ||
		error instanceof CredentialError ||
		error instanceof ImapError
	) {
		return new NodeOperationError(ctx.getNode(), error.message, {
			itemIndex: i,
			description: nothingDone,
		});
	}
	return new NodeOperationError(ctx.getNode(), error as Error, { itemIndex: i });
}
