/** The trigger's errors as n8n errors, their message as the protocol code worded it. */
import { NodeOperationError, type INode } from 'n8n-workflow';

import { errorText } from '../../shared/errors';

export interface TriggerErrorOptions {
	/** What the trigger does about it, shown below the message. */
	description?: string;
	/**
	 * Keep the message word for word: n8n swaps a message that names a system error
	 * (ECONNREFUSED, ENOTDIR, ...) for a generic sentence, which would lose what failed.
	 */
	verbatim?: boolean;
}

/** Any error of the trigger (ours, or a message of ours) as an n8n error. */
export function toTriggerError(
	node: INode,
	error: unknown,
	options: TriggerErrorOptions = {},
): NodeOperationError {
	if (error instanceof NodeOperationError) return error;
	const message = typeof error === 'string' ? error : errorText(error);
	const nodeError = new NodeOperationError(node, message, { description: options.description });
	if (options.verbatim) nodeError.message = message;
	return nodeError;
}
