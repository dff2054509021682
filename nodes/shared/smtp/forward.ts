/**
 * Forwarding a message: the original, as fetched over IMAP, becomes either quoted text (with
 * its attachments and inline images) below a note, or an attached .eml; the subject gets
 * `Fwd: ` once. Builds the parts of the new message; compose.ts checks and measures it.
 */
import type { EmailAddress } from '../mime/headers';
import { joinBinary, type MessageItem } from '../mime/item';
import { parseMessage } from '../mime/toItem';
import type { OutgoingAttachment } from './compose';
import { LimitError } from '../errors';
import { formatBytes } from '../format';
import { MAX_MESSAGE_BYTES } from './limits';
import { escapeHtml } from './reply';

/** How the original travels: quoted inline with its attachments, or whole as message/rfc822. */
export type ForwardMode = 'inline' | 'attachment';

/** The original as IMAP gave it. */
export interface ForwardOriginal {
	raw: Buffer;
	uid: number;
	folder: string;
}

/** What the forward adds to the user's note: subject, bodies, attachments, and the original. */
export interface ForwardParts {
	subject: string;
	text: string;
	html?: string;
	attachments: OutgoingAttachment[];
	/** The original, for the output item. */
	original: {
		messageId: string | null;
		subject: string;
		from: string | null;
		folder: string;
		uid: number;
	};
	/** What could not be carried over (an attachment left out, a body that did not parse). */
	warnings: string[];
}

/** Subject prefixes that already mark a forward (Fwd:, Fw:), in any case. */
const FORWARD_PREFIX = /^fwd?\s*:/i;
/** The line between the note and the original, as mail clients write it. */
const SEPARATOR = '---------- Forwarded message ----------';
/** Characters not kept in the .eml's file name (path separators, Windows' reserved ones). */
const UNSAFE_FILENAME = /[\\/:*?"<>|]+/g;
/** Control characters (below a space) are not kept either. */
const FIRST_PRINTABLE = 0x20;
/** File names longer than this are cut: some clients refuse longer ones. */
const MAX_FILENAME_CHARS = 100;

/** "Fwd: " once: a subject that already starts with Fwd: or Fw: is kept as it is. */
export function forwardSubject(subject: string): string {
	const trimmed = subject.trim();
	return FORWARD_PREFIX.test(trimmed) ? trimmed : `Fwd: ${trimmed}`.trim();
}

/**
 * Fails before the original is fetched when it alone is over AgentMail's message size: the
 * forward carries it whole (as .eml) or its text and attachments (inline), so it cannot fit.
 */
export function assertForwardable(size: number, where: string): void {
	if (size <= MAX_MESSAGE_BYTES) return;
	throw new LimitError(
		`The message to forward (${where}) is ${formatBytes(size)}; AgentMail sends at most ${formatBytes(MAX_MESSAGE_BYTES)} per message, and a forward carries the whole original. Nothing was sent: forward a smaller message, or send its text with Message → Send.`,
	);
}

function mailbox(address: EmailAddress): string {
	return address.name ? `${address.name} <${address.address}>` : address.address;
}

/** The header lines of the original shown above its text: From, Date, Subject, To, Cc. */
function headerLines(item: MessageItem): Array<[string, string]> {
	const date = item.headers.date;
	const lines: Array<[string, string]> = [
		['From', item.from ? mailbox(item.from) : ''],
		['Date', typeof date === 'string' ? date : (item.date ?? '')],
		['Subject', item.subject],
		['To', item.to.map(mailbox).join(', ')],
		['Cc', item.cc.map(mailbox).join(', ')],
	];
	return lines.filter(([, value]) => value !== '');
}

/** The inside of an HTML document's body, or the whole text when it has no body element. */
function htmlBody(html: string): string {
	const match = /<body[^>]*>([\s\S]*)<\/body>/i.exec(html);
	return match ? match[1] : html;
}

function textAsHtml(text: string): string {
	return escapeHtml(text).replace(/\r?\n/g, '<br>\n');
}

/** A file name for the attached original, from its subject. */
function emlFileName(subject: string): string {
	const printable = [...subject].map((c) => (c.charCodeAt(0) < FIRST_PRINTABLE ? ' ' : c)).join('');
	const name = printable.replace(UNSAFE_FILENAME, ' ').replace(/\s+/g, ' ').trim();
	return `${name.slice(0, MAX_FILENAME_CHARS) || 'message'}.eml`;
}

/**
 * The parts of the forward of `original` below the user's note (`note.text`, `note.html`,
 * either may be absent). Inline: the text part is the note, the original's headers and text;
 * there is an HTML part when the note or the original has one; the original's attachments and
 * inline images come along. Attachment: the note, and the original whole as an .eml.
 */
export async function forwardParts(
	original: ForwardOriginal,
	mode: ForwardMode,
	note: { text?: string; html?: string },
	inbox: string,
): Promise<ForwardParts> {
	const parsed = await parseMessage(
		original.raw,
		{ uid: original.uid, folder: original.folder, flags: [], size: original.raw.length },
		// The inline images too: the original's HTML refers to them by Content-ID.
		{ attachments: mode === 'inline', includeInline: true, inbox },
	);
	const item = parsed.json;
	const described = {
		messageId: item.messageId,
		subject: item.subject,
		from: item.from ? mailbox(item.from) : null,
		folder: original.folder,
		uid: original.uid,
	};
	const subject = forwardSubject(item.subject);
	if (mode === 'attachment') {
		return {
			subject,
			text: note.text ?? '',
			html: note.html,
			attachments: [
				{
					filename: emlFileName(item.subject),
					contentType: 'message/rfc822',
					content: original.raw,
					// Not base64 (RFC 2046, 5.2.1): nodemailer labels a message/* part 7bit or 8bit itself.
					// A file to open or save, not a part shown in the body (nodemailer's default for it).
					contentDisposition: 'attachment',
				},
			],
			original: described,
			warnings: [],
		};
	}
	const lines = headerLines(item);
	const noteText = note.text ?? '';
	const text = [
		noteText ? `${noteText}\n\n` : '',
		`${SEPARATOR}\n`,
		...lines.map(([name, value]) => `${name}: ${value}\n`),
		'\n',
		item.text,
	].join('');
	const wantsHtml = note.html !== undefined || item.html !== null;
	const html = wantsHtml
		? [
				note.html !== undefined ? note.html : textAsHtml(noteText),
				'<br><br>\n<div>',
				escapeHtml(SEPARATOR),
				'<br>\n',
				...lines.map(([name, value]) => `${name}: ${escapeHtml(value)}<br>\n`),
				'</div><br>\n',
				item.html !== null ? htmlBody(item.html) : textAsHtml(item.text),
			].join('')
		: undefined;
	const warnings = [...item.warnings];
	const attachments: OutgoingAttachment[] = [];
	for (const attachment of item.attachments) {
		const binary = attachment.binaryProperty ? parsed.binaries[attachment.binaryProperty] : null;
		if (!binary) {
			warnings.push(`the attachment "${attachment.filename}" could not be forwarded`);
			continue;
		}
		attachments.push({
			filename: attachment.filename,
			contentType: attachment.mimeType,
			content: joinBinary(binary),
			cid: attachment.inline && attachment.contentId ? attachment.contentId : undefined,
		});
	}
	return { subject, text, html, attachments, original: described, warnings };
}
