/** The inbox each item works on: its Inbox Address, or the credential's inbox when empty. */
import type { IExecuteFunctions } from 'n8n-workflow';

import { forInbox, parseConnection, type AgentMailConnection } from '../../shared/connection';
import { toNodeError, type NothingDone } from './errors';

/**
 * Reads the credential once; the returned function gives item `i`'s connection and throws a
 * CredentialError when its Inbox Address is not an address.
 */
export async function readInboxes(
	ctx: IExecuteFunctions,
	nothingDone: NothingDone,
): Promise<(i: number) => AgentMailConnection> {
	let credential: AgentMailConnection;
	try {
		credential = parseConnection(await ctx.getCredentials('agentMailInboxApi'));
	} catch (error) {
		throw toNodeError(ctx, error, 0, nothingDone);
	}
	return (i) => forInbox(credential, ctx.getNodeParameter('inbox', i, '') as string);
}
