/**
 * Turns what imapflow, nodemailer and Node's sockets throw while connecting and logging in into
 * one sentence a user can act on: what failed, on which side, and what to change.
 *
 * The trigger, the action node and the credential test share it,
 * so the same fault reads the same everywhere.
 */
import { AGENTMAIL_DEFAULTS, type AgentMailConnection } from './connection';

/** Which connection an error came from. */
export type Side = 'IMAP' | 'SMTP';

/** What kind of failure it was; tests and retry logic branch on this, users read the message. */
export type ConnectionFailureKind =
	| 'auth'
	| 'starttls-required'
	| 'starttls-unavailable'
	| 'dns'
	| 'refused'
	| 'tls-mismatch'
	| 'certificate'
	| 'timeout'
	| 'closed'
	| 'unknown';

export interface ConnectionFailure {
	kind: ConnectionFailureKind;
	side: Side;
	/** One or two sentences: what is wrong and what to do. Never contains the API key. */
	message: string;
	/** True when retrying cannot help until the user changes something (wrong key, wrong host, TLS mode). */
	permanent: boolean;
}

/** Shape of the errors these libraries throw; every field is optional. */
interface LibraryError {
	message?: string;
	code?: string;
	responseCode?: number;
	response?: string;
	authenticationFailed?: boolean;
	serverResponseCode?: string;
	reason?: string;
	cause?: { code?: string; message?: string };
}

const CERTIFICATE_CODES = new Set([
	'SELF_SIGNED_CERT_IN_CHAIN',
	'DEPTH_ZERO_SELF_SIGNED_CERT',
	'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
	'UNABLE_TO_GET_ISSUER_CERT',
	'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
	'CERT_HAS_EXPIRED',
	'CERT_NOT_YET_VALID',
	'CERT_UNTRUSTED',
	'CERT_REVOKED',
	'ERR_TLS_CERT_ALTNAME_INVALID',
]);
const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EDNS', 'EAI_FAIL', 'EAI_NONAME']);
const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'CONNECT_TIMEOUT', 'ETIMEOUT', 'UPGRADE_TIMEOUT']);
const CLOSED_CODES = new Set([
	'ECONNRESET',
	'EPIPE',
	'NoConnection',
	'EConnectionClosed',
	'ClosedAfterConnectTLS',
	'ClosedAfterConnectText',
	'ECONNECTION',
]);

/** Replaces every occurrence of each secret with `***` (belt and braces: messages are built without them). */
export function redact(message: string, secrets: Array<string | undefined>): string {
	let out = message;
	for (const secret of secrets) {
		if (secret && secret.length >= 4) out = out.split(secret).join('***');
	}
	return out;
}

function endpoint(connection: AgentMailConnection, side: Side): string {
	return side === 'IMAP'
		? `${connection.imapHost}:${connection.imapPort}`
		: `${connection.smtpHost}:${connection.smtpPort}`;
}

/** Classifies a failure to connect or log in, and words it for the user. */
export function describeConnectionError(
	error: unknown,
	side: Side,
	connection: AgentMailConnection,
): ConnectionFailure {
	const err = (error ?? {}) as LibraryError;
	const raw = String(err.message ?? error ?? 'unknown error');
	const codes = [err.code, err.cause?.code].filter(Boolean) as string[];
	const has = (set: Set<string>) => codes.some((code) => set.has(code));
	const where = `${side} ${endpoint(connection, side)}`;
	const fail = (
		kind: ConnectionFailureKind,
		message: string,
		permanent: boolean,
	): ConnectionFailure => ({
		kind,
		side,
		permanent,
		message: redact(message, [connection.apiKey]),
	});

	if (err.responseCode === 538 || /must issue a starttls/i.test(raw)) {
		return fail(
			'starttls-required',
			`${where} requires STARTTLS before login (538). Set SMTP Security to "STARTTLS (587)" for this port, or use "SSL/TLS (465)" with port 465.`,
			true,
		);
	}
	if (
		side === 'SMTP' &&
		(err.code === 'ETLS' || /STARTTLS/.test(raw)) &&
		connection.smtpSecurity === 'starttls'
	) {
		return fail(
			'starttls-unavailable',
			`${where} did not upgrade the connection with STARTTLS, so nothing was sent: this node never sends in clear. Check the SMTP Host and Port, or use "SSL/TLS (465)" with port 465.`,
			true,
		);
	}
	if (
		err.authenticationFailed === true ||
		err.serverResponseCode === 'AUTHENTICATIONFAILED' ||
		err.code === 'EAUTH' ||
		err.responseCode === 535
	) {
		return fail(
			'auth',
			connection.inboxFromNode
				? `${where} refused the login for ${connection.email}: the credential's API key may not open this inbox (a key can be limited to some inboxes or pods), or the address is not an inbox. Check the node's Inbox Address, or use a key that may open it.`
				: `${where} refused the login for ${connection.email}: check the API key (AgentMail Console → API Keys) and that Inbox Address is the inbox's full email address.`,
			true,
		);
	}
	if (has(DNS_CODES)) {
		const host = side === 'IMAP' ? connection.imapHost : connection.smtpHost;
		return fail(
			'dns',
			`${side} host "${host}" could not be found: check the ${side} Host field (AgentMail's is ${side === 'IMAP' ? AGENTMAIL_DEFAULTS.imapHost : AGENTMAIL_DEFAULTS.smtpHost}) and that this n8n server can resolve DNS names.`,
			true,
		);
	}
	if (codes.includes('ECONNREFUSED') || /ECONNREFUSED/.test(raw)) {
		return fail(
			'refused',
			`${where} refused the connection: nothing accepts connections on that port. Check the ${side} Port (AgentMail uses ${side === 'IMAP' ? '993' : '465 for SSL/TLS and 587 for STARTTLS'}) and any firewall in between.`,
			false,
		);
	}
	if (
		has(CERTIFICATE_CODES) ||
		/certificate|unable to verify|self[- ]signed|altnames|hostname\/ip does not match/i.test(raw)
	) {
		return fail(
			'certificate',
			`${where} presented a TLS certificate that is not trusted (${raw.trim()}). For AgentMail itself this means something intercepts the connection; for a private server, paste its CA into "Custom CA Certificate" (or, for testing only, turn on "Allow Self-Signed Certificates").`,
			true,
		);
	}
	if (
		/wrong version number|packet length too long|unknown protocol|http request/i.test(raw) ||
		codes.includes('ERR_SSL_WRONG_VERSION_NUMBER')
	) {
		return fail(
			'tls-mismatch',
			side === 'SMTP'
				? `${where} did not answer with TLS: this port expects a plain start upgraded with STARTTLS. Set SMTP Security to "STARTTLS (587)" for this port, or use port 465 with "SSL/TLS (465)".`
				: `${where} did not answer with TLS: it is not an IMAPS port. AgentMail's IMAP needs TLS on connect, on port 993.`,
			true,
		);
	}
	const noGreeting =
		err.code === 'GREETING_TIMEOUT' ||
		/greeting never received|failed to receive greeting/i.test(raw);
	if (noGreeting && side === 'SMTP' && connection.smtpSecurity === 'starttls') {
		// A plain client on an implicit-TLS port: both ends wait for the other to speak first.
		return fail(
			'tls-mismatch',
			`${where} sent no greeting: this port expects TLS from the first byte. Set SMTP Security to "SSL/TLS (465)" for this port, or use port 587 with "STARTTLS (587)".`,
			true,
		);
	}
	if (noGreeting) {
		return fail(
			'timeout',
			`${where} accepted the connection but sent no greeting: check that the ${side} Port is right and the server is up.`,
			false,
		);
	}
	if (has(TIMEOUT_CODES) || /timed? ?out/i.test(raw)) {
		return fail(
			'timeout',
			`${where} did not answer in time: check the ${side} Host and Port, and that no firewall blocks the port.`,
			false,
		);
	}
	if (has(CLOSED_CODES) || /closed|socket hang up|ECONNRESET/i.test(raw)) {
		return fail(
			'closed',
			`${where} closed the connection unexpectedly (${raw.trim()}): if this repeats, check the ${side} Port and TLS settings.`,
			false,
		);
	}
	return fail('unknown', `${where} failed: ${raw.trim()}`, false);
}
