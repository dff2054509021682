/**
 * What an inbox's SMTP server announces after EHLO (over TLS, as every send sees it): its
 * extensions, the largest message it takes (SIZE) and its AUTH mechanisms; then it logs in and
 * quits without sending anything.
 */
import SMTPConnection from 'nodemailer/lib/smtp-connection';

import { withTimeout } from './async';
import { smtpOptions, type AgentMailConnection } from './connection';
import { describeConnectionError, redact } from './connectionErrors';
import { PROBE_DEADLINE_MS } from './connectionTest';
import { errorText } from './errors';
import { knownBehaviour, serverKey, type SentBehaviour } from './smtp/sentCopy';

export interface SmtpFacts {
	host: string;
	port: number;
	security: string;
	/** 'ok', or what went wrong (no secret in it). */
	login: string;
	/** The EHLO keywords after STARTTLS (or on the TLS connection), e.g. PIPELINING, SIZE. */
	extensions: string[];
	/** SIZE's value in bytes; null when the server announces no limit. */
	maxMessageBytes: number | null;
	authMechanisms: string[];
	/**
	 * What earlier sends from this inbox in this n8n process showed of its Sent copies (the
	 * check itself sends nothing): 'not-seen' until the node has sent from it.
	 */
	sentCopies: SentBehaviour | 'not-seen';
}

/** What nodemailer keeps of the EHLO answer (its lines after the greeting), not in its typings. */
interface EhloState {
	_ehloLines?: string[];
	_maxAllowedSize?: number;
}

/** Each EHLO line's keyword, and its parameters (AUTH's mechanisms, SIZE's number). */
function ehloLines(state: EhloState): Array<{ keyword: string; params: string[] }> {
	return (state._ehloLines ?? []).map((line) => {
		const [keyword, ...params] = line.trim().split(/[\s=]+/);
		return { keyword: keyword.toUpperCase(), params };
	});
}

/** Connects, reads EHLO, logs in and quits; never throws (a failure is in `login`). */
export async function readSmtpFacts(
	connection: AgentMailConnection,
	create: (options: SMTPConnection.Options) => SMTPConnection = (o) => new SMTPConnection(o),
): Promise<SmtpFacts> {
	const smtp = create({ ...(smtpOptions(connection) as SMTPConnection.Options), logger: false });
	// Without a listener a late socket error would crash n8n's process.
	smtp.on('error', () => undefined);
	const facts: SmtpFacts = {
		host: connection.smtpHost,
		port: connection.smtpPort,
		security: connection.smtpSecurity,
		login: 'ok',
		extensions: [],
		maxMessageBytes: null,
		authMechanisms: [],
		sentCopies:
			knownBehaviour(serverKey(connection.email, connection.smtpHost, connection.smtpPort)) ??
			'not-seen',
	};
	try {
		await withTimeout(
			(async () => {
				await new Promise<void>((resolve, reject) =>
					smtp.connect((error) => (error ? reject(error) : resolve())),
				);
				const state = smtp as unknown as EhloState;
				const lines = ehloLines(state);
				facts.extensions = lines.map((line) => line.keyword).sort();
				facts.maxMessageBytes = state._maxAllowedSize || null;
				facts.authMechanisms = lines
					.filter((line) => line.keyword === 'AUTH')
					.flatMap((line) => line.params.map((p) => p.toUpperCase()));
				await new Promise<void>((resolve, reject) =>
					smtp.login({ user: connection.email, pass: connection.apiKey }, (error) =>
						error ? reject(error) : resolve(),
					),
				);
			})(),
			PROBE_DEADLINE_MS,
			'SMTP check',
			() => smtp.close(),
		);
		smtp.quit();
	} catch (error) {
		const failure = describeConnectionError(error, 'SMTP', connection);
		facts.login = redact(failure.message || errorText(error), [connection.apiKey]);
	} finally {
		smtp.close();
	}
	return facts;
}
