/**
 * Turns the AgentMail credential into imapflow and nodemailer options.
 *
 * The trigger, the action node, the tests and the benchmarks all build their connections
 * the same way. There is deliberately no option that connects
 * without TLS: AgentMail refuses such connections, and an API key must never cross the wire in
 * clear.
 */
import {
	createSecureContext,
	rootCertificates,
	type ConnectionOptions,
	type SecureContext,
} from 'node:tls';
import type { ImapFlowOptions } from 'imapflow';
import type SMTPTransport from 'nodemailer/lib/smtp-transport';

import { CredentialError } from './errors';

/** AgentMail's published endpoints (its documentation's IMAP and SMTP page). */
export const AGENTMAIL_DEFAULTS = {
	imapHost: 'imap.agentmail.to',
	imapPort: 993,
	smtpHost: 'smtp.agentmail.to',
	smtpSslPort: 465,
	smtpStartTlsPort: 587,
} as const;

/** How the SMTP connection is encrypted; both are TLS, there is no clear-text mode. */
export type SmtpSecurity = 'ssl' | 'starttls';

/** The credential after validation: what every connection is built from. */
export interface AgentMailConnection {
	/** Inbox address: the IMAP and SMTP login, and the only allowed From. */
	email: string;
	/** AgentMail API key: the IMAP and SMTP password. Never logged. */
	apiKey: string;
	imapHost: string;
	imapPort: number;
	smtpHost: string;
	smtpSecurity: SmtpSecurity;
	smtpPort: number;
	/** Extra CA certificate(s) in PEM, trusted in addition to the system roots. */
	caCertificate?: string;
	/** Accept certificates that do not verify. Off by default; for private test servers only. */
	allowUnauthorizedCerts: boolean;
	/**
	 * Set when `email` is a node's Inbox Address rather than the credential's: a refused login
	 * then most likely means the key may not open that inbox.
	 */
	inboxFromNode?: boolean;
}

/** Time allowed for DNS + TCP + TLS before a connection attempt is given up. */
const CONNECT_TIMEOUT_MS = 15_000;
/** Time allowed for the server's greeting once the connection is up. */
const GREETING_TIMEOUT_MS = 15_000;
/** An established SMTP connection with no traffic for this long is dropped. */
const SMTP_SOCKET_TIMEOUT_MS = 60_000;
/**
 * An IMAP connection with no traffic for this long is dropped by imapflow. IDLE is restarted
 * well before this (by the session that uses the client), so only a dead peer trips it.
 */
const IMAP_SOCKET_TIMEOUT_MS = 5 * 60_000;

const EMAIL_PATTERN = /^[^\s@<>(),;:"[\]\\]+@[^\s@<>(),;:"[\]\\]+\.[^\s@<>(),;:"[\]\\]+$/;
const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function text(data: Record<string, unknown>, key: string): string {
	const value = data[key];
	return value === undefined || value === null ? '' : String(value).trim();
}

function port(data: Record<string, unknown>, key: string, label: string, fallback: number): number {
	const raw = data[key];
	if (raw === undefined || raw === null || raw === '') return fallback;
	const value = Number(raw);
	if (!Number.isInteger(value) || value < 1 || value > 65535) {
		throw new CredentialError(
			`${label} must be a whole number from 1 to 65535, not "${String(raw)}".`,
		);
	}
	return value;
}

/**
 * Validates the credential's data as n8n hands it over and fills in AgentMail's defaults.
 *
 * @throws CredentialError naming the field to fix.
 */
export function parseConnection(data: Record<string, unknown>): AgentMailConnection {
	const email = text(data, 'email');
	if (!email) {
		throw new CredentialError(
			"Inbox Address is empty: enter the inbox's full email address, e.g. myinbox@agentmail.to.",
		);
	}
	if (!EMAIL_PATTERN.test(email)) {
		throw new CredentialError(
			`Inbox Address "${email}" is not an email address: enter the inbox's full address, e.g. myinbox@agentmail.to.`,
		);
	}
	// Keys are pasted from the console: stray whitespace would only produce a confusing login failure.
	const apiKey = text(data, 'apiKey');
	if (!apiKey) {
		throw new CredentialError(
			'API Key is empty: create or copy one in the AgentMail Console under API Keys.',
		);
	}
	const security = text(data, 'smtpSecurity') || 'ssl';
	if (security !== 'ssl' && security !== 'starttls') {
		throw new CredentialError(
			`SMTP Security "${security}" is not supported: choose "SSL/TLS (465)" or "STARTTLS (587)".`,
		);
	}
	const caCertificate = normalisePem(text(data, 'trustedCa'));
	return {
		email,
		apiKey,
		imapHost: text(data, 'imapHost') || AGENTMAIL_DEFAULTS.imapHost,
		imapPort: port(data, 'imapPort', 'IMAP Port', AGENTMAIL_DEFAULTS.imapPort),
		smtpHost: text(data, 'smtpHost') || AGENTMAIL_DEFAULTS.smtpHost,
		smtpSecurity: security,
		smtpPort:
			security === 'ssl'
				? port(data, 'smtpPort', 'SMTP Port', AGENTMAIL_DEFAULTS.smtpSslPort)
				: port(data, 'smtpStartTlsPort', 'SMTP Port', AGENTMAIL_DEFAULTS.smtpStartTlsPort),
		caCertificate,
		allowUnauthorizedCerts: data.allowSelfSigned === true,
	};
}

/**
 * The connection for another inbox the same API key may open: a node's Inbox Address, so one
 * credential (one key) serves many inboxes. Empty, or the credential's own: unchanged.
 *
 * @throws CredentialError when `inbox` is not an address.
 */
export function forInbox(
	connection: AgentMailConnection,
	inbox: string | undefined | null,
): AgentMailConnection {
	const address = String(inbox ?? '').trim();
	if (!address || address.toLowerCase() === connection.email.toLowerCase()) return connection;
	if (!EMAIL_PATTERN.test(address)) {
		throw new CredentialError(
			`The node's Inbox Address "${address}" is not an email address: enter an inbox's full address, e.g. support@agentmail.to, or leave it empty to use the credential's inbox (${connection.email}).`,
		);
	}
	return { ...connection, email: address, inboxFromNode: true };
}

/** {@link parseConnection} without throwing: a field problem becomes its message. */
export function tryParseConnection(
	data: Record<string, unknown>,
): { ok: true; connection: AgentMailConnection } | { ok: false; message: string } {
	try {
		return { ok: true, connection: parseConnection(data) };
	} catch (error) {
		// Only CredentialError is thrown above; anything else is a bug worth seeing as such.
		return { ok: false, message: error instanceof CredentialError ? error.message : String(error) };
	}
}

/** Checks a pasted CA field; n8n sometimes stores newlines of a one-line field as literal "\n". */
function normalisePem(raw: string): string | undefined {
	if (!raw) return undefined;
	const pem = raw.replace(/\\n/g, '\n');
	const certificates = pem.match(PEM_CERTIFICATE);
	if (!certificates) {
		throw new CredentialError(
			'Custom CA Certificate is not a PEM certificate: paste the whole text from "-----BEGIN CERTIFICATE-----" to "-----END CERTIFICATE-----", or leave the field empty.',
		);
	}
	return certificates.join('\n');
}

/** The oldest TLS version either protocol may use. */
const MIN_TLS_VERSION = 'TLSv1.2';
/**
 * Custom CAs whose TLS context is kept. A context that trusts a custom CA holds a parsed copy
 * of every system root as well (about 1 MB); built per connection, it cost each trigger about
 * 1 MB, so contexts are shared by everything in the process that trusts the same CA. Distinct
 * CAs are one per credential at most; past this many, the oldest is dropped.
 */
const MAX_SHARED_CONTEXTS = 16;
/** TLS contexts by the custom CA (PEM) they add to the system roots; see MAX_SHARED_CONTEXTS. */
const sharedContexts = new Map<string, SecureContext>();

/** The one TLS context for a custom CA: the system roots plus it, TLS 1.2 or newer. */
export function secureContextFor(caCertificate: string): SecureContext {
	const known = sharedContexts.get(caCertificate);
	if (known) return known;
	// Node's `ca` replaces the system roots, so they are listed too: a custom CA adds trust.
	const context = createSecureContext({
		ca: [...rootCertificates, caCertificate],
		minVersion: MIN_TLS_VERSION,
	});
	if (sharedContexts.size >= MAX_SHARED_CONTEXTS) {
		sharedContexts.delete(sharedContexts.keys().next().value as string);
	}
	sharedContexts.set(caCertificate, context);
	return context;
}

/** TLS settings shared by IMAP and SMTP: system roots plus the custom CA, TLS 1.2 or newer. */
function tlsOptions(connection: AgentMailConnection): ConnectionOptions {
	return {
		minVersion: MIN_TLS_VERSION,
		rejectUnauthorized: !connection.allowUnauthorizedCerts,
		// Without a custom CA, Node's default context (the system roots) is shared already.
		...(connection.caCertificate
			? { secureContext: secureContextFor(connection.caCertificate) }
			: {}),
	};
}

/** imapflow options for one client; callers add their own (logger, timeouts) through `extra`. */
export function imapOptions(
	connection: AgentMailConnection,
	extra: Partial<ImapFlowOptions> = {},
): ImapFlowOptions {
	return {
		host: connection.imapHost,
		port: connection.imapPort,
		// AgentMail accepts IMAP only with TLS from the first byte.
		secure: true,
		auth: { user: connection.email, pass: connection.apiKey },
		tls: tlsOptions(connection),
		logger: false,
		connectionTimeout: CONNECT_TIMEOUT_MS,
		greetingTimeout: GREETING_TIMEOUT_MS,
		socketTimeout: IMAP_SOCKET_TIMEOUT_MS,
		...extra,
	};
}

/** nodemailer SMTP options; 587 must upgrade with STARTTLS or fail, never send in clear. */
export function smtpOptions(
	connection: AgentMailConnection,
	extra: Partial<SMTPTransport.Options> = {},
): SMTPTransport.Options {
	return {
		host: connection.smtpHost,
		port: connection.smtpPort,
		secure: connection.smtpSecurity === 'ssl',
		requireTLS: connection.smtpSecurity === 'starttls',
		auth: { user: connection.email, pass: connection.apiKey },
		tls: tlsOptions(connection),
		connectionTimeout: CONNECT_TIMEOUT_MS,
		greetingTimeout: GREETING_TIMEOUT_MS,
		socketTimeout: SMTP_SOCKET_TIMEOUT_MS,
		// Attachments come from n8n binary data only, never from the n8n host's files or from URLs.
		disableFileAccess: true,
		disableUrlAccess: true,
		...extra,
	};
}
