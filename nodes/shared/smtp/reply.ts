/**
 * Answering a message in its thread: who gets the reply, the subject, In-Reply-To and
 * References, and optional quoting. Reads the original as the AgentMail Trigger emits it, and
 * is tolerant of hand-mapped fields (a string address, a References header string).
 */
import { parseReferences, parseMessageId } from './compose';
import { InputError } from '../errors';
import { parseRecipients, type Mailbox, type RecipientInput } from './limits';

/** The message being answered. */
export interface OriginalMessage {
	messageId: string;
	subject: string;
	from: Mailbox[];
	replyTo: Mailbox[];
	to: Mailbox[];
	cc: Mailbox[];
	references: string[];
	text?: string;
	date?: string;
}

/** The fields of the original as loosely typed input (an item's JSON, or mapped fields). */
export interface OriginalInput {
	messageId?: unknown;
	subject?: unknown;
	from?: unknown;
	replyTo?: unknown;
	to?: unknown;
	cc?: unknown;
	references?: unknown;
	text?: unknown;
	date?: unknown;
}

function recipients(field: string, value: unknown): Mailbox[] {
	return parseRecipients(field, value as RecipientInput);
}

/** Reads and checks the original; a missing Message-ID is an error since threading needs it. */
export function readOriginal(input: OriginalInput): OriginalMessage {
	const messageId = typeof input.messageId === 'string' ? input.messageId.trim() : '';
	if (!messageId) {
		throw new InputError(
			'The message to reply to has no Message-ID, so the reply cannot be threaded. Connect this node after an AgentMail Trigger, or map "Message-ID" to the original message\'s messageId.',
		);
	}
	const references = input.references;
	return {
		messageId: parseMessageId('Original Message-ID', messageId),
		subject: typeof input.subject === 'string' ? input.subject : '',
		from: recipients('Original From', input.from),
		replyTo: recipients('Original Reply-To', input.replyTo),
		to: recipients('Original To', input.to),
		cc: recipients('Original CC', input.cc),
		references: parseReferences(
			Array.isArray(references)
				? references.map(String)
				: typeof references === 'string'
					? references
					: undefined,
		),
		text: typeof input.text === 'string' ? input.text : undefined,
		date: typeof input.date === 'string' ? input.date : undefined,
	};
}

/** "Re: " once: a subject that already starts with Re: (any case) is kept as it is. */
export function replySubject(subject: string): string {
	const trimmed = subject.trim();
	return /^re\s*:/i.test(trimmed) ? trimmed : `Re: ${trimmed}`.trim();
}

/** Who the reply goes to, and the threading headers. */
export interface ReplyAddressing {
	to: Mailbox[];
	cc: Mailbox[];
	subject: string;
	inReplyTo: string;
	references: string[];
}

/**
 * To = the original's Reply-To, or its From. With `replyAll`, the original's To and CC go to
 * CC, minus the inbox itself and anyone already in To.
 */
export function replyAddressing(
	original: OriginalMessage,
	inbox: string,
	replyAll: boolean,
): ReplyAddressing {
	const self = inbox.toLowerCase();
	const to = (original.replyTo.length ? original.replyTo : original.from).filter(
		(m) => m.address.toLowerCase() !== self,
	);
	const taken = new Set(to.map((m) => m.address.toLowerCase()));
	const cc: Mailbox[] = [];
	if (replyAll) {
		for (const mailbox of [...original.to, ...original.cc]) {
			const key = mailbox.address.toLowerCase();
			if (key === self || taken.has(key)) continue;
			taken.add(key);
			cc.push(mailbox);
		}
	}
	if (to.length === 0 && cc.length === 0) {
		throw new InputError(
			'The message to reply to has no sender other than this inbox, so there is nobody to reply to. Check that "From" of the original is mapped.',
		);
	}
	const references = original.references.filter((id) => id !== original.messageId);
	return {
		to,
		cc,
		subject: replySubject(original.subject),
		inReplyTo: original.messageId,
		references: [...references, original.messageId],
	};
}

/** Text safe to put in HTML: the five characters HTML gives a meaning, as character references. */
export function escapeHtml(value: string): string {
	return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function attribution(original: OriginalMessage): string {
	const sender = original.from[0];
	const who = sender
		? sender.name
			? `${sender.name} <${sender.address}>`
			: sender.address
		: 'the sender';
	return original.date ? `On ${original.date}, ${who} wrote:` : `${who} wrote:`;
}

/** Appends the original text, quoted with "> ", below a plain-text reply. */
export function quoteText(reply: string, original: OriginalMessage): string {
	if (!original.text) return reply;
	const quoted = original.text
		.replace(/\r\n/g, '\n')
		.split('\n')
		.map((line) => (line ? `> ${line}` : '>'))
		.join('\n');
	return `${reply}\n\n${attribution(original)}\n${quoted}\n`;
}

/** Appends the original text in a blockquote below an HTML reply. */
export function quoteHtml(reply: string, original: OriginalMessage): string {
	if (!original.text) return reply;
	const body = escapeHtml(original.text).replace(/\r?\n/g, '<br>\n');
	return `${reply}\n<br>\n<div>${escapeHtml(attribution(original))}</div>\n<blockquote style="margin:0 0 0 .8ex;border-left:1px solid #ccc;padding-left:1ex">${body}</blockquote>\n`;
}
