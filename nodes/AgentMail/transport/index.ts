/**
 * The connections of one execution: one per inbox its items use, opened at the first item
 * that needs it and closed when the execution ends (also when an item failed).
 */
import type { AgentMailConnection } from '../../shared/connection';
import { SmtpSession, type SmtpSessionOptions } from '../../shared/smtp/transport';

/** The key of an inbox: logins are case-insensitive. */
export function inboxKey(connection: AgentMailConnection): string {
	return connection.email.toLowerCase();
}

/** One SMTP session per inbox the execution sends from. */
export class SmtpSessions {
	/** By inbox key; a session reconnects by itself, so one per inbox is enough. */
	private readonly sessions = new Map<string, SmtpSession>();

	constructor(private readonly options: SmtpSessionOptions) {}

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
