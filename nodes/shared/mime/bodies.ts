/**
 * The body of an item from mailparser's outcome: text (derived from the HTML when there is
 * none), HTML, the reply text, and the attachments as listed entries and binaries.
 */
import { resolveOptions, type MessageBinary, type ResolvedOptions, type MessageItem } from './item';
import { MAX_REPLY_SOURCE_CHARS } from './limits';
import { runMailParser, type ParseOutcome } from './parse';
import { attachmentFileName } from './fileNames';
import { extractReply } from './replyText';
import { quote, type Warnings } from './warnings';

export interface BodyOptions {
	/** mailparser's outcome for a message it parsed in full. */
	outcome: Extract<ParseOutcome, { kind: 'done' }>;
	maxAttachmentBytes: ResolvedOptions['maxAttachmentBytes'];
	binaryPrefix: ResolvedOptions['binaryPrefix'];
	/** When deriving text from HTML must stop (the message's parse deadline). */
	deadline: number;
	/** The charsets the message's text parts declare, named by the U+FFFD warning. */
	textCharsets: string[];
	/** The message's warnings, which what is found here is added to, in order. */
	warnings: Warnings;
}

/** The item's body fields, and the kept attachments' binaries named by their binaryProperty. */
export interface MessageBody extends Pick<
	MessageItem,
	'text' | 'html' | 'replyText' | 'attachments'
> {
	binaries: Record<string, MessageBinary>;
}

/**
 * Reads the body and attachments of a message mailparser parsed in full; what is wrong with
 * them is added to `warnings`.
 */
export async function readBody({
	outcome,
	maxAttachmentBytes,
	binaryPrefix,
	deadline,
	textCharsets,
	warnings,
}: BodyOptions): Promise<MessageBody> {
	const html = outcome.text?.html ? outcome.text.html : null;
	let text = outcome.text?.text ?? '';
	if (outcome.text?.textConversionError) {
		warnings.add(
			`the HTML could not be turned into text: ${outcome.text.textConversionError.message}`,
		);
	}
	// mailparser derives text from HTML only for a message that is a single HTML part; do the
	// same for HTML-only multiparts (multipart/alternative or /related without text/plain).
	if (text.trim() === '' && html && !outcome.text?.textConversionError) {
		text = await htmlToText(html, deadline, warnings);
	}
	if ((text + (html ?? '')).includes('\uFFFD')) {
		const declared = textCharsets.length > 0 ? textCharsets.join(', ') : 'none declared';
		warnings.add(
			`the body contains bytes that are not valid in its charset (${declared}): they are shown as U+FFFD`,
		);
	}
	const reply = extractReply(text);
	if (reply.failed) {
		warnings.add(`replyText could not be extracted (${reply.failed}): it holds the whole text`);
	}
	if (reply.truncated) {
		warnings.add(
			`replyText was taken from the first ${MAX_REPLY_SOURCE_CHARS} characters of the text`,
		);
	}

	const binaries: MessageBody['binaries'] = {};
	let binaryIndex = 0;
	const attachments = outcome.attachments.map((attachment, position) => {
		const filename = attachmentFileName(attachment, position, warnings);
		let binaryProperty: string | null = null;
		if (attachment.overCap) {
			warnings.add(
				`attachment ${quote(filename)} (${attachment.size} bytes) is larger than the ${maxAttachmentBytes}-byte limit and was left out`,
			);
		} else if (attachment.keep) {
			binaryProperty = `${binaryPrefix}${binaryIndex++}`;
			binaries[binaryProperty] = {
				// Handed on as they are: see MessageBinary.
				chunks: attachment.chunks,
				size: attachment.size,
				fileName: filename,
				mimeType: attachment.mimeType,
			};
			attachment.chunks = [];
		}
		return {
			filename,
			mimeType: attachment.mimeType,
			size: attachment.size,
			binaryProperty,
			contentId: attachment.contentId,
			inline: attachment.inline,
		};
	});
	return { text, html, replyText: reply.text, attachments, binaries };
}

/** Text from HTML via mailparser's own converter: a one-part text/html message is parsed. */
async function htmlToText(html: string, deadline: number, warnings: Warnings): Promise<string> {
	const wrapped = Buffer.concat([
		Buffer.from(
			'Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n',
		),
		Buffer.from(html, 'utf8'),
	]);
	const outcome = await runMailParser(
		wrapped,
		{ ...resolveOptions({}), attachments: false },
		// At least a moment, so an HTML-only message parsed just within its time box still gets text.
		Math.max(deadline, Date.now() + 1),
	);
	if (outcome.kind === 'done' && !outcome.text?.textConversionError) {
		// html-to-text renders an embedded image as "[cid:...]", which means nothing in text.
		return (outcome.text?.text ?? '').replace(/\[cid:[^\]\s]*\]/g, '');
	}
	const why =
		outcome.kind === 'timeout'
			? 'it took too long'
			: outcome.kind === 'error'
				? outcome.message
				: (outcome.text?.textConversionError?.message ?? 'unknown reason');
	warnings.add(`the HTML could not be turned into text: ${why}`);
	return '';
}
