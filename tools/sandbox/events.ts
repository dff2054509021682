import { appendFileSync, existsSync, readFileSync } from 'node:fs';

/** What happened in an SMTP session. */
export type SmtpEventName =
	| 'connect'
	| 'auth'
	| 'auth-failed'
	| 'mail'
	| 'mail-refused'
	| 'rcpt'
	| 'rcpt-refused'
	| 'data-accepted'
	| 'data-refused'
	| 'data-dropped'
	| 'close';

/**
 * One line of `<dir>/smtp-events.jsonl`. Never holds a password or API key. Refusals the
 * smtp-server package makes on its own (530 MAIL before AUTH, 538 AUTH before STARTTLS, 552 for
 * a declared SIZE= over the limit) happen before any hook runs and are not logged.
 */
export interface SmtpEvent {
	/** ISO time. */
	t: string;
	/** smtp-server's session id, the same for all events of one connection. */
	session: string;
	event: SmtpEventName;
	/** The sandbox port the client connected to (implicit TLS or STARTTLS). */
	port: number;
	/** The authenticated inbox address, or for auth-failed the user name that was tried. */
	user: string | null;
	/** SMTP reply code sent for this step, when there is one. */
	code?: number;
	/** Client's TCP port, to tell connections apart. */
	remotePort?: number;
	/** Whether the connection was encrypted at this point. */
	secure?: boolean;
	/** MAIL FROM / RCPT TO address. */
	address?: string;
	/** AUTH mechanism. */
	method?: string;
	/** Message size in bytes (data-*). */
	size?: number;
	/** Envelope recipients (data-accepted). */
	rcptTo?: string[];
	/** Why a step was refused. */
	reason?: string;
}

/** Appends events to a JSON-lines file, one synchronous append per event. */
export class SmtpEventLog {
	/** @param file Path of the .jsonl file; it is created on the first event. */
	constructor(readonly file: string) {}

	/** Appends one event, stamped with the current time. */
	write(event: Omit<SmtpEvent, 't'>): void {
		// A single small appendFileSync is one write(2) on an O_APPEND file: lines never interleave.
		appendFileSync(this.file, JSON.stringify({ t: new Date().toISOString(), ...event }) + '\n');
	}
}

/** Reads every event logged so far in a smtp-events.jsonl file (none if it does not exist yet). */
export function readSmtpEvents(file: string): SmtpEvent[] {
	if (!existsSync(file)) return [];
	return readFileSync(file, 'utf8')
		.split('\n')
		.filter((line) => line.trim() !== '')
		.map((line) => JSON.parse(line) as SmtpEvent);
}
