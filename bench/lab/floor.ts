/**
 * The floors no client can beat: a bare imapflow client that only idles (it hears of new mail
 * when Dovecot tells it, nothing more), and a bare nodemailer pool on one connection.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';

import { sandboxCredential, type SandboxInfo } from '../../tools/sandbox/info';
import { runCommand } from '../../tools/sandbox/processes';

/** IDLE must be re-issued before servers drop it (RFC 2177 says 29 min; Dovecot is patient). */
const IDLE_RESTART_MS = 5 * 60_000;

/** A client that idles on a folder and notes when each EXISTS arrives. */
export class IdleFloor {
	/** Time and message count of every EXISTS heard. */
	readonly events: Array<{ t: number; count: number }> = [];
	private constructor(private readonly client: ImapFlow) {}

	static async start(info: SandboxInfo, address: string, folder = 'INBOX'): Promise<IdleFloor> {
		const credential = sandboxCredential(info, address);
		const client = new ImapFlow({
			host: info.imap.host,
			port: info.imap.port,
			secure: true,
			auth: { user: address, pass: String(credential.apiKey) },
			tls: { ca: readFileSync(info.ca) },
			logger: false,
			maxIdleTime: IDLE_RESTART_MS,
		});
		client.on('error', () => undefined);
		const floor = new IdleFloor(client);
		client.on('exists', (event: { count: number }) =>
			floor.events.push({ t: Date.now(), count: event.count }),
		);
		await client.connect();
		await client.mailboxOpen(folder);
		void client.idle().catch(() => undefined);
		return floor;
	}

	/** When the client first heard of a message delivered at `deliveredAt` (or undefined). */
	heardAfter(deliveredAt: number): number | undefined {
		return this.events.find((event) => event.t >= deliveredAt)?.t;
	}

	/** The last EXISTS heard so far. */
	last(): number | undefined {
		return this.events[this.events.length - 1]?.t;
	}

	async stop(): Promise<void> {
		await this.client.logout().catch(() => this.client.close());
	}
}

/** Sends `messages` through one pooled nodemailer connection; returns the elapsed ms. */
export async function sendWithBarePool(
	info: SandboxInfo,
	address: string,
	messages: Array<{ to: string; subject: string; text: string }>,
): Promise<number> {
	const credential = sandboxCredential(info, address);
	const transport = nodemailer.createTransport({
		host: info.smtp.host,
		port: info.smtp.implicitTlsPort,
		secure: true,
		auth: { user: address, pass: String(credential.apiKey) },
		tls: { ca: readFileSync(info.ca) },
		pool: true,
		maxConnections: 1,
		maxMessages: Infinity,
	});
	const started = Date.now();
	try {
		// One at a time, in order, as one workflow execution sends its items.
		for (const message of messages) await transport.sendMail({ from: address, ...message });
		return Date.now() - started;
	} finally {
		transport.close();
	}
}

/** A whole floor send in its own process, at most. */
const OWN_PROCESS_TIMEOUT_MS = 5 * 60_000;

/**
 * {@link sendWithBarePool} in a process of its own (bench/lab/sendFloorProcess.ts, on this
 * Node), so that, like n8n, it talks to the sandbox's SMTP server across processes; returns the
 * elapsed ms it measured.
 */
export async function sendWithBarePoolInOwnProcess(
	info: SandboxInfo,
	address: string,
	messages: Array<{ to: string; subject: string; text: string }>,
): Promise<number> {
	const script = path.join(__dirname, 'sendFloorProcess.ts');
	const result = await runCommand(process.execPath, ['--import', 'tsx', script], {
		input: JSON.stringify({ info, address, messages }),
		timeoutMs: OWN_PROCESS_TIMEOUT_MS,
		cwd: path.resolve(__dirname, '..', '..'),
	});
	const elapsed = Number(result.stdout.toString('utf8').trim());
	if (result.code !== 0 || !Number.isFinite(elapsed)) {
		throw new Error(
			`the send floor's own process failed (exit ${result.code}): ${result.stderr.toString('utf8').trim()}`,
		);
	}
	return elapsed;
}
