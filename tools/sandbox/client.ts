/**
 * Clients of the sandbox named by AGENTMAIL_SANDBOX_JSON (jest's globalSetup sets it; so does
 * useOwnSandbox in test/helpers/sandbox.ts): deliver mail, read mailboxes, log in, send.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';

import { deliver as deliverOverLmtp, type DeliverOptions } from './deliver';
import { readSmtpEvents, type SmtpEvent } from './events';
import { readSandboxInfo, SANDBOX_FILES, sandboxCredential, type SandboxInfo } from './info';

export type { SandboxInfo, SmtpEvent };

/** A message as {@link listMessages} returns it. */
export interface ListedMessage {
	uid: number;
	/** IMAP flags, e.g. ['\\Seen']. */
	flags: string[];
	subject?: string;
	messageId?: string;
	/** Addresses of the From header. */
	from: string[];
	/** The whole message as stored. */
	source: Buffer;
}

function infoPath(): string {
	const file = process.env.AGENTMAIL_SANDBOX_JSON;
	if (!file) {
		throw new Error(
			'AGENTMAIL_SANDBOX_JSON is not set: run the tests through jest (its globalSetup starts the sandbox)',
		);
	}
	return file;
}

/** The running test sandbox's sandbox.json. */
export function sandboxInfo(): SandboxInfo {
	return readSandboxInfo(infoPath());
}

/** The API key (IMAP/SMTP password) of a sandbox inbox. */
export function apiKey(address: string): string {
	const inbox = sandboxInfo().inboxes.find((candidate) => candidate.address === address);
	if (!inbox) throw new Error(`${address} is not a sandbox inbox`);
	return inbox.apiKey;
}

/** The sandbox CA certificate, for a client's `tls.ca`. */
export function sandboxCa(): Buffer {
	return readFileSync(sandboxInfo().ca);
}

/** Every SMTP event the test sandbox logged so far (see SmtpEvent). */
export function smtpEvents(): SmtpEvent[] {
	return readSmtpEvents(path.join(path.dirname(infoPath()), SANDBOX_FILES.smtpEvents));
}

/** Delivers a raw message into sandbox inboxes over LMTP, as mail from outside arrives. */
export async function deliver(
	to: string | string[],
	raw: Buffer | string,
	options?: DeliverOptions,
): Promise<void> {
	await deliverOverLmtp(sandboxInfo(), to, raw, options);
}

/**
 * A connected, logged-in imapflow client for a sandbox inbox (TLS verified with the sandbox
 * CA, no logging). The caller logs it out.
 */
export async function imapClient(address: string, password = apiKey(address)): Promise<ImapFlow> {
	const info = sandboxInfo();
	const client = new ImapFlow({
		host: info.imap.host,
		port: info.imap.port,
		secure: true,
		auth: { user: address, pass: password },
		tls: { ca: readFileSync(info.ca) },
		logger: false,
	});
	// imapflow kills the process on an 'error' without a listener; the failing call reports it.
	client.on('error', () => undefined);
	await client.connect();
	return client;
}

/** All messages in a folder of an inbox, oldest first (read-only: flags are left alone). */
export async function listMessages(address: string, folder: string): Promise<ListedMessage[]> {
	const client = await imapClient(address);
	try {
		const mailbox = await client.mailboxOpen(folder, { readOnly: true });
		if (mailbox.exists === 0) return [];
		const messages = await client.fetchAll('1:*', {
			uid: true,
			flags: true,
			envelope: true,
			source: true,
		});
		return messages.map((message) => ({
			uid: message.uid,
			flags: [...(message.flags ?? [])].sort(),
			subject: message.envelope?.subject,
			messageId: message.envelope?.messageId,
			from: (message.envelope?.from ?? []).map((entry) => entry.address ?? ''),
			source: message.source ?? Buffer.alloc(0),
		}));
	} finally {
		await client.logout();
	}
}

/**
 * A nodemailer transport that sends as a sandbox inbox, over implicit TLS (default) or STARTTLS
 * (required, so a missing STARTTLS fails instead of sending in clear).
 */
export function smtpTransport(
	address: string,
	mode: 'implicit' | 'starttls' = 'implicit',
	password = apiKey(address),
) {
	const info = sandboxInfo();
	const implicit = mode === 'implicit';
	return nodemailer.createTransport({
		host: info.smtp.host,
		port: implicit ? info.smtp.implicitTlsPort : info.smtp.startTlsPort,
		secure: implicit,
		requireTLS: !implicit,
		auth: { user: address, pass: password },
		tls: { ca: readFileSync(info.ca) },
	});
}

/** The AgentMail credential's data for a sandbox inbox (as n8n hands it to the nodes). */
export function credentialData(
	address: string,
	overrides: Record<string, string | number | boolean> = {},
): Record<string, string | number | boolean> {
	return { ...sandboxCredential(sandboxInfo(), address), ...overrides };
}
