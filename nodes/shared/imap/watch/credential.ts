/**
 * The credential an IMAP session logs in with, read again while its logins are refused. n8n
 * does not re-activate an active trigger when its credential is edited (2.41 only records the
 * edit), so a session that kept the key it started with would keep trying the old one until the
 * workflow is switched off and on. The session reads the credential again before each retry
 * and every {@link CREDENTIAL_CHECK_MS} in between, and tries a changed key at once.
 */
import type { PackageLogger } from '../../async';
import type { AgentMailConnection } from '../../connection';
import { errorText } from '../../errors';

/**
 * How often a session whose login is refused reads its credential again: a key fixed in n8n
 * works within seconds, for the cost of one read of n8n's own database, never of a login.
 */
export const CREDENTIAL_CHECK_MS = 5_000;

/** What a login depends on; the inbox address is not among them (see refresh). */
function loginFingerprint(connection: AgentMailConnection): string {
	return JSON.stringify([
		connection.apiKey,
		connection.imapHost,
		connection.imapPort,
		connection.caCertificate ?? '',
		connection.allowUnauthorizedCerts,
	]);
}

export class SessionCredential {
	constructor(
		/** The connection in use. */
		private current: AgentMailConnection,
		/** Reads the credential again (the trigger asks n8n); without it nothing changes. */
		private readonly reload: (() => Promise<AgentMailConnection>) | undefined,
		private readonly logger: PackageLogger,
	) {}

	/** The connection to log in with now. */
	get connection(): AgentMailConnection {
		return this.current;
	}

	/** Whether the credential can be read again at all. */
	get watching(): boolean {
		return this.reload !== undefined;
	}

	/**
	 * Reads the credential again; true when its key or server settings changed, which are used
	 * from now on. Another inbox address is not taken over: the session's place (its watermark)
	 * belongs to the inbox it started with, so that takes switching the workflow off and on.
	 */
	async refresh(): Promise<boolean> {
		if (!this.reload) return false;
		let next: AgentMailConnection;
		try {
			next = await this.reload();
		} catch (error) {
			// Deleted or invalid meanwhile: keep trying with what worked last.
			this.logger.debug('AgentMail Trigger: reading the credential again failed', {
				error: errorText(error),
			});
			return false;
		}
		if (next.email.toLowerCase() !== this.current.email.toLowerCase()) return false;
		if (loginFingerprint(next) === loginFingerprint(this.current)) return false;
		this.current = { ...next, email: this.current.email };
		this.logger.info(
			`AgentMail Trigger: the credential of ${this.current.email} changed; logging in with it`,
		);
		return true;
	}
}
