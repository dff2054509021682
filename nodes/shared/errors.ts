/**
 * The errors of the protocol code, one family. Each class names what went wrong for the user;
 * every message says what is wrong and what to do, and never holds the API key. The nodes turn
 * them into n8n's errors in one place each (AgentMail/helpers/errors.ts,
 * AgentMailTrigger/helpers/errors.ts).
 */

/** Any error of ours: its message is worded for the user already. */
export abstract class AgentMailError extends Error {
	constructor(message: string) {
		super(message);
		this.name = new.target.name;
	}
}

/**
 * Something the node was given (a parameter, a field of the input item) is missing or
 * malformed, found before the server is asked; nothing was done.
 */
export class InputError extends AgentMailError {}

/** The credential cannot produce a connection, or the server refused its login. */
export class CredentialError extends AgentMailError {}

/** The server could not be reached, or the connection broke during a job. */
export class ConnectionError extends AgentMailError {}

/** The server refused a command, or has no such folder or message (any more). */
export class ServerError extends AgentMailError {}

/** A message over AgentMail's limits: 50 recipients, 10 MB; nothing was sent. */
export class LimitError extends AgentMailError {}

/** A message the server did not take, or may not have taken; `delivered` says which. */
export class SendError extends AgentMailError {
	constructor(
		message: string,
		/** SMTP reply code, when the server gave one. */
		readonly responseCode: number | undefined,
		/**
		 * 'no' when the server refused it or it never left; 'unknown' when the connection broke
		 * after the message was handed over, so it may have been delivered and is not resent.
		 */
		readonly delivered: 'no' | 'unknown',
		/** True when retrying the same message cannot succeed until something is changed. */
		readonly permanent: boolean,
	) {
		super(message);
	}
}

/** A failure the trigger's session cannot retry its way out of (login, folder). */
export class FatalSessionError extends AgentMailError {
	constructor(
		message: string,
		readonly reason: 'auth' | 'folder' | 'config',
	) {
		super(message);
	}
}

/** A message the trigger could not hand over to n8n; `message` says which one and why. */
export class HandOverError extends AgentMailError {
	constructor(
		readonly uid: number,
		readonly cause: unknown,
	) {
		super(`handing over message ${uid} failed: ${errorText(cause)}`);
	}
}

/** The message of anything thrown: an Error's message, else the value as text. */
export function errorText(error: unknown): string {
	return String((error as Error)?.message ?? error);
}
