/**
 * Mail for the bench and the drills: raw messages of known shapes, and delivery into sandbox
 * inboxes over LMTP (as outside mail arrives) on kept connections, so that a burst goes in as
 * fast as Dovecot takes it.
 */
import { createHash, randomBytes } from 'node:crypto';

import { readFileSync } from 'node:fs';

import { ImapFlow } from 'imapflow';
import nodemailer, { type Transporter } from 'nodemailer';
import type SMTPPool from 'nodemailer/lib/smtp-pool';

import { sandboxCredential, type SandboxInfo } from '../../tools/sandbox/info';

/** Sender of every bench message (outside the sandbox). */
export const BENCH_SENDER = 'sender@example.org';
/** One LMTP exchange, even of a 14 MB message on a busy machine. */
const LMTP_SOCKET_TIMEOUT_MS = 60_000;

/** What a bench message carries. */
export interface MessageShape {
	/** Size of the text/plain body. */
	textBytes?: number;
	/** Size of an HTML alternative (none if 0). */
	htmlBytes?: number;
	/** Size of one attachment (none if 0). */
	attachmentBytes?: number;
}

/** A raw message and what identifies it. */
export interface BenchMessage {
	subject: string;
	messageId: string;
	raw: Buffer;
	/** SHA-256 of the attachment's bytes, when there is one. */
	attachmentSha256?: string;
}

function filler(bytes: number, seed: string): string {
	const line = `${seed} lorem ipsum dolor sit amet, consectetur adipiscing elit. `;
	let out = '';
	while (out.length < bytes) out += line.slice(0, Math.min(line.length, bytes - out.length)) + '\n';
	return out.slice(0, bytes);
}

function base64Lines(data: Buffer): string {
	return data.toString('base64').replace(/.{76}/g, '$&\r\n');
}

/** Builds a message of the given shape with `subject` and a fresh Message-ID. */
export function benchMessage(subject: string, shape: MessageShape = {}): BenchMessage {
	const messageId = `<bench.${randomBytes(8).toString('hex')}@example.org>`;
	const text = filler(shape.textBytes ?? 2_000, subject).replace(/\n/g, '\r\n');
	const headers = [
		`From: Bench Sender <${BENCH_SENDER}>`,
		'To: Agent <agent@agentmail.test>',
		`Subject: ${subject}`,
		`Message-ID: ${messageId}`,
		`Date: ${new Date().toUTCString()}`,
		'MIME-Version: 1.0',
	];
	const htmlBytes = shape.htmlBytes ?? 0;
	const attachmentBytes = shape.attachmentBytes ?? 0;
	let body = [`Content-Type: text/plain; charset=utf-8`, '', text].join('\r\n');
	if (htmlBytes > 0) {
		const html = `<html><body><p>${filler(htmlBytes, subject).replace(/\n/g, '</p>\r\n<p>')}</p></body></html>`;
		body = [
			'Content-Type: multipart/alternative; boundary="alt"',
			'',
			'--alt',
			body,
			'--alt',
			'Content-Type: text/html; charset=utf-8',
			'',
			html,
			'--alt--',
		].join('\r\n');
	}
	let attachmentSha256: string | undefined;
	if (attachmentBytes > 0) {
		const content = randomBytes(attachmentBytes);
		attachmentSha256 = createHash('sha256').update(content).digest('hex');
		body = [
			'Content-Type: multipart/mixed; boundary="mixed"',
			'',
			'--mixed',
			body,
			'--mixed',
			'Content-Type: application/octet-stream; name="data.bin"',
			'Content-Disposition: attachment; filename="data.bin"',
			'Content-Transfer-Encoding: base64',
			'',
			base64Lines(content),
			'--mixed--',
		].join('\r\n');
	}
	const raw = Buffer.from([...headers, body, ''].join('\r\n'));
	return { subject, messageId, raw, attachmentSha256 };
}

/**
 * `from`'s reply to the message `inReplyTo` (its Message-ID) addressed to `to`, as a mail
 * client writes one: In-Reply-To and References name it, `text` comes first, the quote after.
 */
export function replyMessage(
	from: string,
	to: string,
	subject: string,
	inReplyTo: string,
	text: string,
): BenchMessage {
	const messageId = `<bench.reply.${randomBytes(8).toString('hex')}@example.org>`;
	const raw = [
		`From: <${from}>`,
		`To: <${to}>`,
		`Subject: Re: ${subject}`,
		`Message-ID: ${messageId}`,
		`In-Reply-To: ${inReplyTo}`,
		`References: ${inReplyTo}`,
		`Date: ${new Date().toUTCString()}`,
		'MIME-Version: 1.0',
		'Content-Type: text/plain; charset=utf-8',
		'',
		text,
		'',
		`On ${new Date().toUTCString()}, <${to}> wrote:`,
		'> the question',
		'',
	].join('\r\n');
	return { subject: `Re: ${subject}`, messageId, raw: Buffer.from(raw) };
}

/** The Message-ID of the message with `subject` in an inbox's INBOX, once it is there. */
export async function storedMessageId(
	info: SandboxInfo,
	address: string,
	subject: string,
): Promise<string | undefined> {
	const client = new ImapFlow({
		host: info.imap.host,
		port: info.imap.port,
		secure: true,
		auth: { user: address, pass: String(sandboxCredential(info, address).apiKey) },
		tls: { ca: readFileSync(info.ca) },
		logger: false,
	});
	client.on('error', () => undefined);
	await client.connect();
	try {
		await client.mailboxOpen('INBOX', { readOnly: true });
		const uids = await client.search({ header: { subject } }, { uid: true });
		if (!uids || uids.length === 0) return undefined;
		const message = await client.fetchOne(String(uids[0]), { envelope: true }, { uid: true });
		return message ? message.envelope?.messageId : undefined;
	} finally {
		await client.logout().catch(() => client.close());
	}
}

/** Delivers over LMTP on up to `connections` kept connections. */
export class Deliverer {
	private readonly transport: Transporter;

	constructor(info: SandboxInfo, connections = 1) {
		this.transport = nodemailer.createTransport({
			host: info.lmtp.host,
			port: info.lmtp.port,
			lmtp: true,
			secure: false,
			// Loopback only: STARTTLS on LMTP adds nothing here.
			ignoreTLS: true,
			name: 'localhost',
			pool: true,
			maxConnections: connections,
			maxMessages: Infinity,
			socketTimeout: LMTP_SOCKET_TIMEOUT_MS,
		} as SMTPPool.Options);
	}

	/** Resolves when Dovecot has stored the message for every recipient; returns that time. */
	async deliver(to: string | string[], message: BenchMessage): Promise<number> {
		const recipients = Array.isArray(to) ? to : [to];
		const result = await this.transport.sendMail({
			envelope: { from: BENCH_SENDER, to: recipients },
			raw: message.raw,
		});
		const rejected = result.rejected ?? [];
		if (rejected.length > 0) {
			throw new Error(`LMTP refused ${rejected.join(', ')}: ${String(result.response)}`);
		}
		return Date.now();
	}

	close(): void {
		this.transport.close();
	}
}
