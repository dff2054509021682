import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

import type { SandboxProfile } from './profiles';

/**
 * Contents of `<dir>/sandbox.json`: everything a client needs to talk to a running sandbox.
 * These keys and no others.
 */
export interface SandboxInfo {
	/** Which servers it stands for (tools/sandbox/profiles.ts); `dovecot` unless one was asked for. */
	profile: SandboxProfile;
	imap: { host: string; port: number };
	smtp: { host: string; implicitTlsPort: number; startTlsPort: number };
	lmtp: { host: string; port: number };
	/** Absolute path of the sandbox CA certificate (PEM); clients verify TLS with it. */
	ca: string;
	/** The inboxes: login = address, password = apiKey. */
	inboxes: Array<{ address: string; apiKey: string }>;
	/** Absolute path of the folder where mail to non-sandbox recipients is written. */
	outbox: string;
}

/** Names of the files a sandbox keeps in its folder. */
export const SANDBOX_FILES = {
	info: 'sandbox.json',
	pid: 'sandbox.pid',
	log: 'sandbox.log',
	smtpEvents: 'smtp-events.jsonl',
} as const;

/** The project root (the folder holding package.json). */
export const PROJECT_ROOT = path.resolve(__dirname, '..', '..');

/** The sandbox folder: $AGENTMAIL_SANDBOX_DIR, else `<project root>/.sandbox`. */
export function sandboxDir(): string {
	return path.resolve(process.env.AGENTMAIL_SANDBOX_DIR ?? path.join(PROJECT_ROOT, '.sandbox'));
}

/** Reads a sandbox.json file, with a clear error if there is none. */
export function readSandboxInfo(file: string): SandboxInfo {
	if (!existsSync(file)) {
		throw new Error(
			`no sandbox description at ${file}: is the sandbox running? (npm run sandbox:start)`,
		);
	}
	return JSON.parse(readFileSync(file, 'utf8')) as SandboxInfo;
}

/**
 * The AgentMail credential's data (as n8n stores it) for one sandbox inbox: its key, the
 * sandbox's hosts and ports, and its CA as the trusted certificate.
 */
export function sandboxCredential(
	info: SandboxInfo,
	address: string,
): Record<string, string | number | boolean> {
	const inbox = info.inboxes.find((candidate) => candidate.address === address);
	if (!inbox) throw new Error(`${address} is not a sandbox inbox`);
	return {
		email: inbox.address,
		apiKey: inbox.apiKey,
		imapHost: info.imap.host,
		imapPort: info.imap.port,
		smtpHost: info.smtp.host,
		smtpSecurity: 'ssl',
		smtpPort: info.smtp.implicitTlsPort,
		smtpStartTlsPort: info.smtp.startTlsPort,
		trustedCa: readFileSync(info.ca, 'utf8'),
		allowSelfSigned: false,
	};
}
