/**
 * The body of an item from mailparser's outcome: text (derived from the HTML when there is
 * none), HTML, the reply text, and the attachments as listed entries and binaries.
 */
import { resolveOptions, type MessageBinary, type ResolvedOptions, type TriggerItem } from './item';
import { MAX_REPLY_SOURCE_CHARS } from './limits';
import { runMailParser, type ParseOutcome } from './parse';
import { attachmentFileName } from './fileNames';
import { extractReply } from './replyText';
import { quote, type Warnings } from './warnings';

export async function fillBody(
	json: TriggerItem,
	outcome: Extract<ParseOutcome, { kind: 'done' }>,
	options: ResolvedOptions,
	deadline: number,
	warnings: Warnings,
	binaries: Record<string, MessageBinary>,
	textCharsets: string[],
): Promise<void> {
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
	json.text = text;
	json.html = html;
	const reply = extractReply(text);
	json.replyText = reply.text;
	if (reply.failed) {
		warnings.add(`replyText could not be extracted (${reply.failed}): it holds the whole text`);
	}
	if (reply.truncated) {
		warnings.add(
			`replyText was taken from the first ${MAX_REPLY_SOURCE_CHARS} characters of the text`,
		);
	}

	let binaryIndex = 0;
	json.attachments = outcome.attachments.map((attachment, position) => {
		const filename = attachmentFileName(attachment, position, warnings);
		let binaryProperty: string | null = null;
		if (attachment.overCap) {
			warnings.add(
				`attachment ${quote(filename)} (${attachment.size} bytes) is larger than the ${options.maxAttachmentBytes}-byte limit and was left out`,
			);
		} else if (attachment.keep) {
			binaryProperty = `${options.binaryPrefix}${binaryIndex++}`;
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
