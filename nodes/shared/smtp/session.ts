/**
 * One SMTP session for all the messages of an execution: opened on the first send, reused,
 * re-opened when the server has closed it (AgentMail ends sessions after 30 minutes), and
 * closed at the end.
 *
 * A message is only ever re-sent when it provably never left: the connection failed before
 * the server asked for the message body. Once body bytes were handed to the socket, a broken
 * connection is reported for that message and never retried, because SMTP has no idempotency
 * key and a blind resend can deliver twice.
 */
import { Readable } from 'node:stream';
import SMTPConnection from 'nodemailer/lib/smtp-connection';

import { silentLogger, type PackageLogger } from '../async';
import { smtpOptions, type AgentMailConnection } from '../connection';
import { errorText } from '../errors';
import type { ComposedMessage } from './compose';
import { describeSendError, describeSessionError } from './errors';

/** What the server said about one message. */
export interface SentInfo {
	/** Message-ID of the sent message (the server's own, when it replaced ours). */
	messageId: string;
	accepted: string[];
	rejected: string[];
	/** Per refused recipient, the server's answer. */
	rejectedReasons: Array<{ recipient: string; response: string }>;
	/** The server's final reply, e.g. "250 OK: queued as ...". */
	response: string;
	size: number;
}

export interface SmtpSessionOptions {
	/** Swap the connection (tests); defaults to nodemailer's SMTPConnection. */
	createConnection?: (options: SMTPConnection.Options) => SMTPConnection;
	logger?: PackageLogger;
}

/** Error codes that mean the connection, not the message, failed. */
const CONNECTION_CODES = new Set(['ECONNECTION', 'ESOCKET', 'ETIMEDOUT', 'EDNS']);

function isConnectionFailure(error: unknown): boolean {
	const err = error as { code?: string; responseCode?: number };
	// 421: the server is closing the session (e.g. its session timeout) and took nothing.
	return CONNECTION_CODES.has(err?.code ?? '') || err?.responseCode === 421;
}

/**
 * Wraps the message so we know whether any of it was asked for by the connection, and when
 * all of it has been read by the connection.
 */
class TrackedBody extends Readable {
	started = false;
	constructor(
		private readonly data: Buffer,
		onRead?: () => void,
	) {
		super();
		if (onRead) this.once('end', onRead);
	}
	_read() {
		this.started = true;
		this.push(this.data);
		this.push(null);
	}
}

export class SmtpSession {
	private current?: SMTPConnection;
	private alive = false;
	private opened = 0;
	private readonly logger: PackageLogger;
	private readonly create: (options: SMTPConnection.Options) => SMTPConnection;

	constructor(
		private readonly connection: AgentMailConnection,
		options: SmtpSessionOptions = {},
	) {
		this.logger = options.logger ?? silentLogger;
		this.create = options.createConnection ?? ((o) => new SMTPConnection(o));
	}

	/** How many SMTP connections this session has opened so far. */
	get connectionsOpened(): number {
		return this.opened;
	}

	/**
	 * Sends one built message.
	 *
	 * @param onBodyRead called once the connection has read the whole message body; the end
	 * of the body still goes out in the same turn of the event loop. From then on the send
	 * only waits for the server's verdict.
	 * @throws SendError with a user-facing message; `delivered` is 'unknown' only when the
	 * connection broke after the body was handed over.
	 */
	async send(message: ComposedMessage, onBodyRead?: () => void): Promise<SentInfo> {
		for (let attempt = 1; ; attempt++) {
			const connection = await this.ensureOpen();
			const body = new TrackedBody(message.raw, onBodyRead);
			try {
				const info = await new Promise<SMTPConnection.SentMessageInfo>((resolve, reject) =>
					// nodemailer writes its progress into the envelope object: hand it a copy.
					connection.send(
						{ from: message.envelope.from, to: [...message.envelope.to] },
						body,
						(error, result) =>
							error ? reject(error) : resolve(result as SMTPConnection.SentMessageInfo),
					),
				);
				return {
					messageId: info.serverMessageId ?? message.messageId,
					accepted: (info.accepted ?? []).map(String),
					rejected: (info.rejected ?? []).map(String),
					rejectedReasons: (info.rejectedErrors ?? []).map((e) => ({
						recipient: String((e as { recipient?: string }).recipient ?? ''),
						response: String(e.response ?? e.message),
					})),
					response: info.response,
					size: message.size,
				};
			} catch (error) {
				const connectionFailed = isConnectionFailure(error);
				if (connectionFailed) this.drop();
				else await this.resetAfterRefusal();
				// Safe to retry only when the session, not the message, failed, and the server
				// provably took nothing: the body never left, or it answered 421 (closing, nothing
				// accepted), which a session limit can do to a message whose body already went out.
				const closing = (error as { responseCode?: number })?.responseCode === 421;
				if (connectionFailed && (!body.started || closing) && attempt === 1) {
					this.logger.info('SMTP session ended before the server took the message; reconnecting', {
						host: this.connection.smtpHost,
					});
					continue;
				}
				throw describeSendError(error, this.connection, body.started);
			}
		}
	}

	/** Ends the session politely (QUIT); safe to call more than once. */
	async close(): Promise<void> {
		const connection = this.current;
		this.current = undefined;
		if (!connection) return;
		if (this.alive) {
			this.alive = false;
			await new Promise<void>((resolve) => {
				connection.once('end', () => resolve());
				connection.quit();
				// A server that never answers QUIT must not hold the execution.
				setTimeout(() => {
					connection.close();
					resolve();
				}, 2_000).unref();
			});
		} else {
			connection.close();
		}
	}

	private async ensureOpen(): Promise<SMTPConnection> {
		if (this.current && this.alive) return this.current;
		this.drop();
		const options = smtpOptions(this.connection) as SMTPConnection.Options;
		const connection = this.create({ ...options, logger: false });
		this.opened++;
		connection.on('error', (error) => {
			this.alive = false;
			this.logger.debug('SMTP connection error', { message: errorText(error) });
		});
		// The server ended the session (idle or session timeout): open a new one next time.
		connection.on('end', () => {
			this.alive = false;
		});
		try {
			await new Promise<void>((resolve, reject) => {
				// Failures during the handshake (e.g. a refused STARTTLS) arrive as 'error' events,
				// not through the connect callback.
				connection.once('error', reject);
				connection.connect((error) => {
					connection.off('error', reject);
					if (error) reject(error);
					else resolve();
				});
			});
			await new Promise<void>((resolve, reject) =>
				connection.login({ user: this.connection.email, pass: this.connection.apiKey }, (error) =>
					error ? reject(error) : resolve(),
				),
			);
		} catch (error) {
			connection.close();
			throw describeSessionError(error, this.connection);
		}
		this.current = connection;
		this.alive = true;
		this.logger.debug('SMTP session opened', {
			host: this.connection.smtpHost,
			port: this.connection.smtpPort,
		});
		return connection;
	}

	/** After a refused message, RSET clears the transaction; if even that fails, start over. */
	private async resetAfterRefusal(): Promise<void> {
		const connection = this.current;
		if (!connection || !this.alive) return;
		await new Promise<void>((resolve) =>
			connection.reset((error) => {
				if (error) this.drop();
				resolve();
			}),
		);
	}

	private drop(): void {
		this.alive = false;
		this.current?.close();
		this.current = undefined;
	}
}
