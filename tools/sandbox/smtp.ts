import { createHash, timingSafeEqual } from 'node:crypto';
import {
	SMTPServer,
	type SMTPServerDataStream,
	type SMTPServerOptions,
	type SMTPServerSession,
} from 'smtp-server';

import type { SmtpEventLog } from './events';
import { headerFromAddresses } from './headers';
import type { Inbox } from './inboxes';

/** AgentMail: at most 50 recipients per email. */
export const MAX_RECIPIENTS = 50;
/** AgentMail: at most 10 MB per message. */
export const MAX_MESSAGE_BYTES = 10 * 1024 * 1024;
/** AgentMail: 30-minute sessions; used as the idle timeout of a connection. */
const SMTP_SESSION_TIMEOUT_MS = 30 * 60_000;
/** On stop, connected clients get this long to finish before they are told 421 and cut off. */
const SMTP_CLOSE_GRACE_MS = 1_000;

/** A message the SMTP servers accepted, handed to the sandbox for delivery before answering. */
export interface AcceptedMessage {
	session: string;
	/** The authenticated inbox (also envelope sender and header From). */
	user: string;
	/** Envelope recipients, lower case, BCC included. */
	rcptTo: string[];
	raw: Buffer;
}

/**
 * Faults to inject, for tests of clients; mutable while the servers run. Off by default.
 */
export interface SmtpFaults {
	/**
	 * After every Nth accepted message of a session, answer 250 and then end the session with
	 * 421, as AgentMail's session timeout does between two messages.
	 */
	endSessionAfterMessages?: number;
	/**
	 * Cut the connection (no answer) in the middle of the Nth message body received from now
	 * on, counting all sessions; set it again to arm it again.
	 */
	dropDuringData?: number;
	/**
	 * Answer the Nth message body received from now on with 421 and end the session, taking
	 * nothing: a session limit that strikes in the middle of a transaction. Fires once.
	 */
	closeInsteadOfAccepting?: number;
}

/** Options of {@link startSmtpServers}. */
export interface SmtpServersOptions {
	host: string;
	implicitTlsPort: number;
	startTlsPort: number;
	/** Server certificate and key (PEM). */
	cert: Buffer;
	key: Buffer;
	inboxes: Inbox[];
	events: SmtpEventLog;
	/** Delivers an accepted message; a rejection makes the client get 451 instead of 250. */
	deliver: (message: AcceptedMessage) => Promise<void>;
	/** Faults to inject (tests); read at every message. */
	faults?: SmtpFaults;
}

/** The two running SMTP servers. */
export interface SmtpServers {
	/** Stops accepting, gives clients a short grace period, then closes both servers. */
	close(): Promise<void>;
}

/** The parts of smtp-server's per-connection object the fault injection uses. */
interface ServerConnection {
	id: string;
	send(code: number, message: string): void;
	close(): void;
	_socket: { destroy(): void };
}

/** An Error carrying the SMTP reply code smtp-server should send. */
function smtpError(responseCode: number, message: string): Error {
	return Object.assign(new Error(message), { responseCode });
}

function sameSecret(a: string, b: string): boolean {
	// Hashing first gives equal lengths, which timingSafeEqual requires.
	const digest = (value: string) => createHash('sha256').update(value).digest();
	return timingSafeEqual(digest(a), digest(b));
}

function sessionUser(session: SMTPServerSession): string | null {
	return typeof session.user === 'string' ? session.user : null;
}

/**
 * Starts the sandbox's SMTP submission servers with AgentMail's rules: one with implicit TLS,
 * one with STARTTLS (AUTH before STARTTLS gets 538), AUTH PLAIN/LOGIN with the API keys, MAIL
 * only after AUTH, sender = authenticated inbox (envelope and header), at most 50 recipients,
 * at most 10 MB.
 */
export async function startSmtpServers(options: SmtpServersOptions): Promise<SmtpServers> {
	const { events, inboxes } = options;
	const faults = options.faults ?? {};
	const acceptedPerSession = new Map<string, number>();
	let bodiesSinceArmed = 0;
	let armedDrop: number | undefined;
	const log = (
		port: number,
		session: SMTPServerSession,
		event: Parameters<SmtpEventLog['write']>[0]['event'],
		extra: Record<string, unknown> = {},
	) =>
		events.write({
			session: session.id,
			event,
			port,
			user: sessionUser(session),
			remotePort: session.remotePort,
			secure: session.secure,
			...extra,
		});

	const create = (port: number, secure: boolean): SMTPServer => {
		const serverOptions: SMTPServerOptions = {
			secure,
			key: options.key,
			cert: options.cert,
			name: 'localhost',
			banner: 'AgentMail sandbox ESMTP',
			authMethods: ['PLAIN', 'LOGIN'],
			size: MAX_MESSAGE_BYTES,
			socketTimeout: SMTP_SESSION_TIMEOUT_MS,
			closeTimeout: SMTP_CLOSE_GRACE_MS,
			logger: false,

			onConnect(session, callback) {
				log(port, session, 'connect');
				callback();
			},

			onAuth(auth, session, callback) {
				const username = (auth.username ?? '').trim().toLowerCase();
				const inbox = inboxes.find((candidate) => candidate.address === username);
				if (!inbox || !sameSecret(auth.password ?? '', inbox.apiKey)) {
					log(port, session, 'auth-failed', { user: username, method: auth.method, code: 535 });
					callback(smtpError(535, '5.7.8 Authentication failed'));
					return;
				}
				log(port, session, 'auth', { user: inbox.address, method: auth.method, code: 235 });
				callback(null, { user: inbox.address });
			},

			onMailFrom(address, session, callback) {
				const from = address.address.toLowerCase();
				if (from !== sessionUser(session)) {
					log(port, session, 'mail-refused', {
						address: from,
						code: 550,
						reason: 'envelope sender is not the inbox',
					});
					callback(smtpError(550, '5.7.1 Sender not authorized'));
					return;
				}
				log(port, session, 'mail', { address: from, code: 250 });
				callback();
			},

			onRcptTo(address, session, callback) {
				const to = address.address.toLowerCase();
				const already = session.envelope.rcptTo.some((rcpt) => rcpt.address.toLowerCase() === to);
				// A repeated recipient replaces its earlier entry, so it does not count twice.
				if (!already && session.envelope.rcptTo.length >= MAX_RECIPIENTS) {
					log(port, session, 'rcpt-refused', {
						address: to,
						code: 452,
						reason: 'too many recipients',
					});
					callback(smtpError(452, '4.5.3 Too many recipients'));
					return;
				}
				log(port, session, 'rcpt', { address: to, code: 250 });
				callback();
			},

			onData(stream: SMTPServerDataStream, session, callback) {
				// Re-arming (a new value) restarts the count.
				if (faults.dropDuringData !== armedDrop) {
					armedDrop = faults.dropDuringData;
					bodiesSinceArmed = 0;
				}
				if (faults.closeInsteadOfAccepting !== undefined && --faults.closeInsteadOfAccepting <= 0) {
					delete faults.closeInsteadOfAccepting;
					stream.resume();
					stream.once('end', () => {
						log(port, session, 'data-refused', { code: 421, reason: 'fault: session closed' });
						connectionOf(session)?.endSession();
					});
					return;
				}
				const chunks: Buffer[] = [];
				let kept = 0;
				let answered = false;
				if (armedDrop !== undefined && ++bodiesSinceArmed === armedDrop) {
					// Fired: disarmed, so that setting the same number again arms it again.
					delete faults.dropDuringData;
					stream.once('data', () => {
						log(port, session, 'data-dropped', { reason: 'fault: connection cut mid-message' });
						// Cut, not refused: there will be no answer of any kind to this message.
						answered = true;
						connectionOf(session)?.destroySocket();
					});
				}
				const answer = (error: Error | null, message?: string) => {
					// A stream error can come after 'end' (or the other way round): answer once.
					if (answered) return;
					answered = true;
					callback(error, message);
				};
				const refuse = (code: number, message: string, reason: string) => {
					if (answered) return;
					log(port, session, 'data-refused', { code, size: stream.byteLength, reason });
					answer(smtpError(code, message));
				};
				stream.on('data', (chunk: Buffer) => {
					// Past the limit the message is refused anyway: stop holding it in memory.
					if (kept <= MAX_MESSAGE_BYTES) {
						chunks.push(chunk);
						kept += chunk.length;
					}
				});
				stream.on('error', (error) => {
					refuse(451, '4.3.0 Error reading the message', error.message);
				});
				stream.on('end', () => {
					if (stream.sizeExceeded) {
						refuse(
							552,
							'5.3.4 Message size exceeds fixed maximum message size',
							'message over 10 MB',
						);
						return;
					}
					const raw = Buffer.concat(chunks);
					const user = sessionUser(session) as string;
					const fromAddresses = headerFromAddresses(raw);
					if (fromAddresses?.length !== 1 || fromAddresses[0] !== user) {
						refuse(550, '5.7.1 Sender not authorized', 'header From is not the inbox');
						return;
					}
					const rcptTo = session.envelope.rcptTo.map((rcpt) => rcpt.address.toLowerCase());
					options
						.deliver({ session: session.id, user, rcptTo, raw })
						.then(() => {
							log(port, session, 'data-accepted', { code: 250, size: raw.length, rcptTo });
							answer(null, `2.0.0 Ok: queued as ${session.id}`);
							const accepted = (acceptedPerSession.get(session.id) ?? 0) + 1;
							acceptedPerSession.set(session.id, accepted);
							const every = faults.endSessionAfterMessages;
							if (every && accepted % every === 0) {
								// After the 250 went out: the client sees the session end between messages.
								setImmediate(() => connectionOf(session)?.endSession());
							}
						})
						.catch((error: Error) => {
							refuse(451, '4.3.0 Delivery failed, try again later', error.message);
						});
				});
			},

			onClose(session) {
				acceptedPerSession.delete(session.id);
				log(port, session, 'close');
			},
		};
		const server = new SMTPServer(serverOptions);
		const connectionOf = (session: SMTPServerSession) => {
			const connections = (server as unknown as { connections: Set<ServerConnection> }).connections;
			const connection = [...connections].find((candidate) => candidate.id === session.id);
			if (!connection) return undefined;
			return {
				endSession: () => {
					connection.send(421, '4.4.2 Session timed out, closing connection');
					connection.close();
				},
				destroySocket: () => connection._socket.destroy(),
			};
		};
		// Clients that leave before or during the TLS handshake end up here; without a listener
		// the whole process would crash. Nothing to do about them.
		server.on('error', () => undefined);
		return server;
	};

	const servers: Array<[SMTPServer, number]> = [
		[create(options.implicitTlsPort, true), options.implicitTlsPort],
		[create(options.startTlsPort, false), options.startTlsPort],
	];
	const close = async () => {
		await Promise.all(
			servers.map(
				async ([server]) => await new Promise<void>((resolve) => server.close(() => resolve())),
			),
		);
	};
	let listening = false;
	try {
		for (const [server, port] of servers) {
			await new Promise<void>((resolve, reject) => {
				server.server.once('error', reject);
				server.listen(port, options.host, () => {
					server.server.off('error', reject);
					resolve();
				});
			});
		}
		listening = true;
	} finally {
		// One port taken: close the servers already listening, the error goes on to the caller.
		if (!listening) await close();
	}
	return { close };
}
