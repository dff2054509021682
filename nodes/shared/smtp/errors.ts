/**
 * SMTP server answers (and nodemailer's errors) turned into what a user can act on.
 * Connection and login failures are worded by ../connectionErrors.ts; this adds the answers
 * AgentMail gives to a message itself.
 */
import type { AgentMailConnection } from '../connection';
import { describeConnectionError, redact } from '../connectionErrors';
import { SendError } from '../errors';
import { formatBytes } from '../format';
import { MAX_MESSAGE_BYTES, MAX_RECIPIENTS } from './limits';

interface SmtpLibraryError {
	message?: string;
	code?: string;
	responseCode?: number;
	response?: string;
	command?: string;
}

/** Words a failure to open the session (connect, STARTTLS, login): nothing was sent. */
export function describeSessionError(error: unknown, connection: AgentMailConnection): SendError {
	const failure = describeConnectionError(error, 'SMTP', connection);
	const code = (error as SmtpLibraryError | undefined)?.responseCode;
	return new SendError(failure.message, code, 'no', failure.permanent);
}

/** Words an error raised while sending one message. */
export function describeSendError(
	error: unknown,
	connection: AgentMailConnection,
	messageStarted: boolean,
): SendError {
	const err = (error ?? {}) as SmtpLibraryError;
	const code = err.responseCode;
	const reply = redact(String(err.response ?? err.message ?? error).trim(), [connection.apiKey]);
	const make = (message: string, permanent: boolean, delivered: 'no' | 'unknown' = 'no') =>
		new SendError(redact(message, [connection.apiKey]), code, delivered, permanent);

	if (code === 552 || (err.code === 'EMESSAGE' && /size/i.test(reply))) {
		return make(
			`AgentMail refused the message as too large (${reply}). It accepts at most ${formatBytes(MAX_MESSAGE_BYTES)} including attachments: send fewer or smaller attachments.`,
			true,
		);
	}
	if (code === 452 && /recipient/i.test(reply)) {
		return make(
			`AgentMail refused a recipient as one too many (${reply}): at most ${MAX_RECIPIENTS} recipients per message. Split the list over several messages.`,
			true,
		);
	}
	if (
		(code === 550 || code === 553) &&
		(err.command === 'MAIL FROM' || /sender|from/i.test(reply))
	) {
		return make(
			`AgentMail did not accept ${connection.email} as the sender (${reply}). Messages can only be sent from the inbox itself; check that Inbox Address in the credential is the inbox the API key belongs to.`,
			true,
		);
	}
	if (err.code === 'EAUTH' || code === 535 || code === 538 || err.command === 'CONN' || !code) {
		// Login and connection failures read the same as in the credential test.
		const failure = describeConnectionError(error, 'SMTP', connection);
		if (messageStarted && failure.kind !== 'auth') {
			return make(
				`The connection to ${connection.smtpHost}:${connection.smtpPort} broke while the message was being sent (${reply}). It may or may not have been delivered, so it was not sent again: check the recipient's inbox or your Sent folder before retrying.`,
				false,
				'unknown',
			);
		}
		return make(failure.message, failure.permanent);
	}
	if (code >= 400 && code < 500) {
		return make(
			`AgentMail could not take the message right now (${reply}). Nothing was sent; try again later.`,
			false,
		);
	}
	return make(`AgentMail refused the message (${reply}).`, true);
}
