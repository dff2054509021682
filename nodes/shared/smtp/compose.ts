/**
 * Builds the MIME message exactly as it will go on the wire, checks it against AgentMail's
 * rules (limits.ts) and measures it, so that nothing over a limit is ever sent.
 */
import { randomUUID } from 'node:crypto';
import MailComposer from 'nodemailer/lib/mail-composer';

import { InputError } from '../errors';

import {
	assertFrom,
	assertHeaderValue,
	assertMessageSize,
	assertRecipientCount,
	parseRecipients,
	uniqueRecipients,
	type Mailbox,
	type RecipientInput,
} from './limits';

/** An attachment whose bytes are already in memory (n8n binary data); never a path or URL. */
export interface OutgoingAttachment {
	filename: string;
	content: Buffer;
	contentType?: string;
	/** Content-ID for inline images referenced as cid: in the HTML. */
	cid?: string;
	/** Default: inline for cid: images and message/rfc822 parts, attachment otherwise. */
	contentDisposition?: 'attachment' | 'inline';
}

/** What a node asks to send. */
export interface OutgoingMessage {
	/** The inbox address: the only From AgentMail allows. */
	inbox: string;
	/** Display name shown with the From address. */
	fromName?: string;
	to?: RecipientInput;
	cc?: RecipientInput;
	bcc?: RecipientInput;
	replyTo?: RecipientInput;
	subject?: string;
	text?: string;
	html?: string;
	/** Message-ID of the message this one answers. */
	inReplyTo?: string;
	/** Message-IDs of the thread, oldest first. */
	references?: string[] | string;
	/** Extra headers; structural ones (To, Subject, Message-ID...) must use their own fields. */
	headers?: Record<string, string>;
	attachments?: OutgoingAttachment[];
	/** The Message-ID to give it (send once, ./sendOnce); a new random one when absent. */
	messageId?: string;
}

/** The built message, ready for SMTP: raw bytes, envelope and what a later node may need. */
export interface ComposedMessage {
	raw: Buffer;
	size: number;
	messageId: string;
	envelope: { from: string; to: string[] };
	to: Mailbox[];
	cc: Mailbox[];
	bcc: Mailbox[];
	subject: string;
	inReplyTo?: string;
	references: string[];
}

/** Headers that the message's own fields set; a custom header may not override them. */
const STRUCTURAL_HEADERS = new Set([
	'sender',
	'to',
	'cc',
	'bcc',
	'subject',
	'reply-to',
	'message-id',
	'in-reply-to',
	'references',
	'date',
	'mime-version',
	'content-type',
	'content-transfer-encoding',
	'return-path',
]);
// RFC 5322 field name: printable ASCII except the colon.
const HEADER_NAME = /^[!-9;-~]+$/;
// One msg-id: <left@right>, no spaces or brackets inside.
const MESSAGE_ID = /^<[^<>\s]+>$/;
/** The thread's References header keeps its first and its newest ids beyond this many. */
const MAX_REFERENCES = 30;

/** Normalises one Message-ID to `<id>`, refusing anything that is not one. */
export function parseMessageId(field: string, value: string): string {
	const trimmed = value.trim();
	assertHeaderValue(field, trimmed);
	const bracketed = trimmed.startsWith('<') ? trimmed : `<${trimmed}>`;
	if (!MESSAGE_ID.test(bracketed) || !bracketed.includes('@')) {
		throw new InputError(
			`${field} "${value}" is not a Message-ID (expected something like <abc@agentmail.to>).`,
		);
	}
	return bracketed;
}

/** Splits a References value (header text or list) into normalised ids, duplicates removed. */
export function parseReferences(value: string[] | string | undefined): string[] {
	if (!value) return [];
	const parts = Array.isArray(value) ? value : value.split(/\s+/);
	const ids: string[] = [];
	for (const part of parts) {
		if (!part || !part.trim()) continue;
		const id = parseMessageId('References', part);
		if (!ids.includes(id)) ids.push(id);
	}
	return ids;
}

/** Keeps the thread root and the newest ids when a References chain grows too long. */
function boundReferences(ids: string[]): string[] {
	if (ids.length <= MAX_REFERENCES) return ids;
	return [ids[0], ...ids.slice(ids.length - (MAX_REFERENCES - 1))];
}

function checkCustomHeaders(inbox: string, headers: Record<string, string> | undefined) {
	const out: Record<string, string> = {};
	for (const [name, value] of Object.entries(headers ?? {})) {
		const key = name.trim();
		if (!HEADER_NAME.test(key)) {
			throw new InputError(
				`Custom header name "${name}" is not valid: use letters, digits and dashes, e.g. X-Ticket-Id.`,
			);
		}
		const text = String(value ?? '');
		assertHeaderValue(`Custom header ${key}`, text);
		if (key.toLowerCase() === 'from') {
			// Asking for another From is an error; restating the inbox itself is harmless.
			assertFrom(inbox, text);
			continue;
		}
		if (STRUCTURAL_HEADERS.has(key.toLowerCase())) {
			throw new InputError(
				`Custom header ${key} cannot be set here: use the node's own ${key} field instead.`,
			);
		}
		out[key] = text;
	}
	return out;
}

/**
 * Builds, checks and measures a message. Nothing touches the network.
 *
 * @throws LimitError over AgentMail's recipient count or size, InputError for anything else
 * wrong with the message; each with the reason and what to do.
 */
export async function composeMessage(message: OutgoingMessage): Promise<ComposedMessage> {
	const inbox = message.inbox;
	const to = parseRecipients('To', message.to);
	const cc = parseRecipients('CC', message.cc);
	const bcc = parseRecipients('BCC', message.bcc);
	const replyTo = parseRecipients('Reply-To', message.replyTo);
	const recipients = uniqueRecipients(to, cc, bcc);
	assertRecipientCount(recipients);

	const subject = message.subject ?? '';
	assertHeaderValue('Subject', subject);
	const fromName = (message.fromName ?? '').trim();
	assertHeaderValue('Sender Name', fromName);
	const headers = checkCustomHeaders(inbox, message.headers);
	const inReplyTo = message.inReplyTo
		? parseMessageId('In-Reply-To', message.inReplyTo)
		: undefined;
	const references = boundReferences(parseReferences(message.references));
	const domain = inbox.split('@')[1];
	const messageId = message.messageId
		? parseMessageId('Message-ID', message.messageId)
		: `<${randomUUID()}@${domain}>`;

	const composer = new MailComposer({
		from: fromName ? { name: fromName, address: inbox } : inbox,
		to,
		cc,
		// Bcc recipients go in the envelope only; MailComposer leaves the header out.
		bcc,
		replyTo: replyTo.length ? replyTo : undefined,
		subject,
		text: message.text,
		html: message.html,
		messageId,
		inReplyTo,
		references: references.length ? references : undefined,
		headers,
		attachments: (message.attachments ?? []).map((attachment) => ({
			filename: attachment.filename,
			content: attachment.content,
			contentType: attachment.contentType,
			cid: attachment.cid,
			contentDisposition: attachment.contentDisposition,
		})),
		// CRLF as on the wire, so the measured size is the size SMTP transmits.
		newline: '\r\n',
		// Content comes from n8n only: never read the n8n host's files or fetch URLs.
		disableFileAccess: true,
		disableUrlAccess: true,
	});
	const raw = await composer.compile().build();
	assertMessageSize(raw.length);
	return {
		raw,
		size: raw.length,
		messageId,
		envelope: { from: inbox, to: recipients },
		to,
		cc,
		bcc,
		subject,
		inReplyTo,
		references,
	};
}
