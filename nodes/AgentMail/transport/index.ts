/**
 * The connections of one execution: one per inbox its items use, opened at the first item
 * that needs it and closed when the execution ends (also when an item failed).
 */
import type { AgentMailConnection } from '../../shared/connection';
import { openClient, type ClientFactory } from '../../shared/imap/connect';
import { InboxClient } from '../../shared/imap/inbox';
import { SmtpSession, type SmtpSessionOptions } from '../../shared/smtp/session';

/** The key of an inbox: logins are case-insensitive. */
export function inboxKey(connection: AgentMailConnection): string {
	return connection.email.toLowerCase();
}

/** One SMTP session per inbox the execution sends from. */
export class SmtpSessions {
	/** By inbox key; a session reconnects by itself, so one per inbox is enough. */
	private readonly sessions = new Map<string, SmtpSession>();

	constructor(
		/** Given to every session: n8n's logger. */
		private readonly options: SmtpSessionOptions,
	) {}

	get(connection: AgentMailConnection): SmtpSession {
		const key = inboxKey(connection);
		let session = this.sessions.get(key);
		if (!session) {
			session = new SmtpSession(connection, this.options);
			this.sessions.set(key, session);
		}
		return session;
	}

	async closeAll(): Promise<void> {
		await Promise.all([...this.sessions.values()].map(async (session) => await session.close()));
	}
}

/** One IMAP connection per inbox the execution reads or files mail in. */
export class ImapClients {
	/**
	 * By inbox key. A failed login stays here, so later items of that inbox fail with the same
	 * error instead of trying the refused key again.
	 */
	private readonly clients = new Map<string, Promise<InboxClient>>();

	constructor(
		/** Tests swap the client to count connections; n8n uses imapflow's. */
		private readonly createClient?: ClientFactory,
	) {}

	/** The inbox's connection, opened at its first use, or again when it has ended. */
	async get(connection: AgentMailConnection): Promise<InboxClient> {
		const key = inboxKey(connection);
		const open = this.clients.get(key);
		if (open) {
			const client = await open;
			if (client.usable) return client;
		}
		const opening = openClient(connection, this.createClient).then(
			(client) => new InboxClient(client, connection.email),
		);
		this.clients.set(key, opening);
		return await opening;
	}

	/** Logs every connection out; never throws. */
	async closeAll(): Promise<void> {
		const clients = await Promise.all(
			[...this.clients.values()].map(async (open) => await open.catch(() => undefined)),
		);
		await Promise.all(clients.map(async (client) => await client?.close()));
		this.clients.clear();
	}
}
