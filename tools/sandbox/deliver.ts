import nodemailer from 'nodemailer';

import { headerFromAddresses } from './headers';
import type { SandboxInfo } from './info';

/** Connecting to the local LMTP listener takes milliseconds. */
const LMTP_CONNECT_TIMEOUT_MS = 10_000;
/** A 10 MB message through LMTP to a local maildir. */
const LMTP_SOCKET_TIMEOUT_MS = 60_000;
/** Envelope sender used when the message has no usable From header. */
const DEFAULT_OUTSIDE_SENDER = 'sender@outside.example';
/** An mbox separator ("From sender date", no colon), which messages cut out of an mbox keep. */
const MBOX_FROM_LINE = /^From [^\r\n]*\r?\n/;
/** How far into a message an mbox "From " line is looked for; such lines are short. */
const MBOX_FROM_LINE_MAX_BYTES = 1_000;

/** Options of {@link deliver}. */
export interface DeliverOptions {
	/** Envelope sender (MAIL FROM); defaults to the message's From address. */
	from?: string;
}

/**
 * Sends a raw message over LMTP to Dovecot and fails unless every recipient took it.
 * `to` must be local inboxes; Dovecot refuses anything else.
 */
export async function lmtpSend(
	lmtp: SandboxInfo['lmtp'],
	from: string,
	to: string[],
	raw: Buffer,
): Promise<void> {
	const transport = nodemailer.createTransport({
		host: lmtp.host,
		port: lmtp.port,
		lmtp: true,
		secure: false,
		// Loopback only: Dovecot offers STARTTLS on LMTP, but it adds nothing here.
		ignoreTLS: true,
		name: 'localhost',
		connectionTimeout: LMTP_CONNECT_TIMEOUT_MS,
		socketTimeout: LMTP_SOCKET_TIMEOUT_MS,
	});
	try {
		const result = await transport.sendMail({ envelope: { from, to }, raw });
		if (result.rejected.length > 0) {
			throw new Error(`LMTP refused ${result.rejected.join(', ')}: ${String(result.response)}`);
		}
	} finally {
		transport.close();
	}
}

/**
 * Delivers a raw message to sandbox inboxes over LMTP, the way mail from an outside sender
 * arrives: straight into INBOX, nothing in anyone's Sent. Throws if an address is not one of
 * the sandbox's inboxes or if Dovecot does not accept the message. A leading mbox "From " line
 * is dropped (it is not a header and would break the message).
 */
export async function deliver(
	info: SandboxInfo,
	to: string | string[],
	raw: Buffer | string,
	options: DeliverOptions = {},
): Promise<void> {
	const recipients = (Array.isArray(to) ? to : [to]).map((address) => address.trim().toLowerCase());
	const known = info.inboxes.map((inbox) => inbox.address.toLowerCase());
	const unknown = recipients.filter((address) => !known.includes(address));
	if (recipients.length === 0 || unknown.length > 0) {
		throw new Error(
			`not a sandbox inbox: ${unknown.join(', ') || '(no recipient)'}; the inboxes are ${known.join(', ')}`,
		);
	}
	let message = Buffer.isBuffer(raw) ? raw : Buffer.from(raw);
	const mboxLine = MBOX_FROM_LINE.exec(
		message.subarray(0, MBOX_FROM_LINE_MAX_BYTES).toString('latin1'),
	);
	if (mboxLine) message = message.subarray(mboxLine[0].length);
	const from = options.from ?? headerFromAddresses(message)?.[0] ?? DEFAULT_OUTSIDE_SENDER;
	await lmtpSend(info.lmtp, from, recipients, message);
}
