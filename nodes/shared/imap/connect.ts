/**
 * One-shot IMAP clients: logged in for one short job (a folder list, the test event, the Send
 * Once lookup, the action node's execution) and logged out after. The trigger's long-lived
 * connection is ./watch/session.ts.
 */
import { ImapFlow, type ImapFlowOptions } from 'imapflow';

import { imapOptions, type AgentMailConnection } from '../connection';
import { describeConnectionError } from '../connectionErrors';
import { ConnectionError, CredentialError } from '../errors';

/** Builds the client; tests swap it to inject faults. */
export type ClientFactory = (options: ImapFlowOptions) => ImapFlow;

const defaultFactory: ClientFactory = (options) => new ImapFlow(options);

/** A logged-in client; a failure to connect or log in is worded for the user. */
export async function openClient(
	connection: AgentMailConnection,
	createClient: ClientFactory = defaultFactory,
): Promise<ImapFlow> {
	// A one-shot job never idles: each command is followed by the next or by LOGOUT.
	const client = createClient(imapOptions(connection, { disableAutoIdle: true }));
	// imapflow kills the process on an 'error' without a listener; the failing call reports it.
	client.on('error', () => undefined);
	const failure = await client.connect().then(
		() => undefined,
		(error: unknown) => error ?? new Error('the connection failed'),
	);
	if (failure !== undefined) {
		client.close();
		const described = describeConnectionError(failure, 'IMAP', connection);
		throw described.kind === 'auth'
			? new CredentialError(described.message)
			: new ConnectionError(described.message);
	}
	return client;
}

/** Logs out, or just closes the socket when LOGOUT cannot be sent; never throws. */
export async function closeClient(client: ImapFlow): Promise<void> {
	await client.logout().catch(() => client.close());
}

/** Runs `job` with a client of its own, logged out afterwards whatever happens. */
export async function withClient<T>(
	connection: AgentMailConnection,
	job: (client: ImapFlow) => Promise<T>,
	createClient?: ClientFactory,
): Promise<T> {
	const client = await openClient(connection, createClient);
	try {
		return await job(client);
	} finally {
		await closeClient(client);
	}
}
