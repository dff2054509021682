/**
 * The credential's connection test: an IMAP login + LIST and an SMTP connect + AUTH, run side
 * by side. Each failure names its side and says what to change (see connectionErrors.ts).
 *
 * `methods/credentialTest.ts` adapts it to n8n's `testedBy`.
 */
import { ImapFlow, type ImapFlowOptions } from 'imapflow';
import { createTransport } from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport';

import { withTimeout } from './async';
import {
	imapOptions,
	smtpOptions,
	tryParseConnection,
	type AgentMailConnection,
} from './connection';
import { describeConnectionError, redact, type ConnectionFailure } from './connectionErrors';

/**
 * Shorter than the connection defaults: a person is waiting on the credential screen, and a
 * TLS mode mismatch on SMTP only shows as a greeting that never comes.
 */
const PROBE_CONNECT_TIMEOUT_MS = 10_000;
/** See {@link PROBE_CONNECT_TIMEOUT_MS}. */
const PROBE_GREETING_TIMEOUT_MS = 8_000;
/** Longest a single probe may take end to end, whatever the libraries' own timers do. */
export const PROBE_DEADLINE_MS = 25_000;

/** What the test reports, in n8n's credential-test shape. */
export interface ConnectionTestResult {
	status: 'OK' | 'Error';
	message: string;
	/** Per side; absent when the credential itself was invalid. */
	imap?: ProbeOutcome;
	smtp?: ProbeOutcome;
}

export type ProbeOutcome = { ok: true; detail: string } | { ok: false; failure: ConnectionFailure };

/** Seams for tests: swap how clients are made. */
export interface ProbeFactories {
	imap?: (options: ImapFlowOptions) => ImapFlow;
	smtp?: (options: SMTPTransport.Options) => ReturnType<typeof createTransport>;
}

/** Logs in over IMAP and lists the folders. */
async function probeImap(
	connection: AgentMailConnection,
	factory: ProbeFactories['imap'] = (options) => new ImapFlow(options),
): Promise<ProbeOutcome> {
	const client = factory(
		imapOptions(connection, {
			connectionTimeout: PROBE_CONNECT_TIMEOUT_MS,
			greetingTimeout: PROBE_GREETING_TIMEOUT_MS,
			disableAutoIdle: true,
		}),
	);
	// Without a listener, a socket error after connect() settles would crash n8n's process.
	client.on('error', () => undefined);
	try {
		const folders = await withTimeout(
			(async () => {
				await client.connect();
				return await client.list();
			})(),
			PROBE_DEADLINE_MS,
			'IMAP login',
			() => client.close(),
		);
		await client.logout().catch(() => undefined);
		return { ok: true, detail: `IMAP login and LIST OK (${folders.length} folders)` };
	} catch (error) {
		client.close();
		return { ok: false, failure: describeConnectionError(error, 'IMAP', connection) };
	}
}

/** Connects over SMTP (with STARTTLS where chosen) and authenticates, without sending. */
async function probeSmtp(
	connection: AgentMailConnection,
	factory: ProbeFactories['smtp'] = (options) => createTransport(options),
): Promise<ProbeOutcome> {
	const transport = factory(
		smtpOptions(connection, {
			connectionTimeout: PROBE_CONNECT_TIMEOUT_MS,
			greetingTimeout: PROBE_GREETING_TIMEOUT_MS,
		}),
	);
	try {
		await withTimeout(transport.verify(), PROBE_DEADLINE_MS, 'SMTP login', () => transport.close());
		return { ok: true, detail: 'SMTP login OK' };
	} catch (error) {
		return { ok: false, failure: describeConnectionError(error, 'SMTP', connection) };
	} finally {
		transport.close();
	}
}

/**
 * Tests a credential as n8n hands it over: validates the fields, then probes IMAP and SMTP in
 * parallel. OK only when both sides log in.
 */
export async function testConnection(
	data: Record<string, unknown>,
	factories: ProbeFactories = {},
): Promise<ConnectionTestResult> {
	const parsed = tryParseConnection(data);
	if (!parsed.ok) return { status: 'Error', message: parsed.message };
	const connection = parsed.connection;
	const [imap, smtp] = await Promise.all([
		probeImap(connection, factories.imap),
		probeSmtp(connection, factories.smtp),
	]);
	if (imap.ok && smtp.ok) {
		return {
			status: 'OK',
			message: `Connected as ${connection.email}: ${imap.detail}, ${smtp.detail}.`,
			imap,
			smtp,
		};
	}
	const problems = [imap, smtp].flatMap((outcome) => (outcome.ok ? [] : [outcome.failure.message]));
	return {
		status: 'Error',
		message: redact(problems.join(' '), [connection.apiKey]),
		imap,
		smtp,
	};
}
