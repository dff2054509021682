/**
 * The mailparser driver: runs mailparser's streaming parser over a raw message within a
 * deadline, collecting the text parts and each attachment's bytes (up to the cap).
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';

import { MailParser, type AttachmentStream, type MessageText } from 'mailparser';

import { errorText } from '../errors';
import type { ResolvedOptions } from './item';
import { MAX_HTML_TO_TEXT_CHARS, PARSE_CHUNK_BYTES } from './limits';

/** An attachment while mailparser streams it. */
export type CollectedAttachment = {
	filename: string | undefined;
	mimeType: string;
	contentId: string | null;
	inline: boolean;
	/** Still collecting its bytes (wanted, and not over the cap so far). */
	keep: boolean;
	overCap: boolean;
	chunks: Buffer[];
	size: number;
};

export type ParseOutcome =
	| { kind: 'done'; text: MessageText | null; attachments: CollectedAttachment[] }
	| { kind: 'timeout' }
	| { kind: 'error'; message: string };

const MAILPARSER_OPTIONS = {
	// Only text and html are used: no text→HTML rendering, no linkifying, no data: URIs for
	// cid images (which would copy every inline image into the HTML string), no checksums.
	skipTextToHtml: true,
	skipTextLinks: true,
	skipImageLinks: true,
	checksumAlgo: false as const,
	maxHtmlLengthToParse: MAX_HTML_TO_TEXT_CHARS,
};

/**
 * Runs mailparser over `raw` until it ends, fails, or the deadline passes. The message is fed
 * in slices with a turn of the event loop between them, so the deadline timer can always fire.
 */
export function runMailParser(
	raw: Buffer,
	options: ResolvedOptions,
	deadline: number,
): Promise<ParseOutcome> {
	return new Promise<ParseOutcome>((resolve) => {
		const parser = new MailParser(MAILPARSER_OPTIONS);
		const attachments: CollectedAttachment[] = [];
		let text: MessageText | null = null;
		let settled = false;

		const finish = (outcome: ParseOutcome): void => {
			if (settled) return;
			settled = true;
			clearTimeout(timer);
			// Stop a parse that is abandoned so it frees its buffers and stops using the CPU.
			if (outcome.kind !== 'done') parser.destroy();
			resolve(outcome);
		};
		const timer = setTimeout(() => finish({ kind: 'timeout' }), Math.max(0, deadline - Date.now()));

		// Kept for the parser's whole life: errors after the outcome must not go unhandled.
		parser.on('error', (error: unknown) => finish({ kind: 'error', message: errorText(error) }));
		parser.on('data', (data: AttachmentStream | MessageText) => {
			if (settled) return;
			if (data.type === 'text') {
				text = data;
				return;
			}
			attachments.push(
				collectAttachment(data, options, (message) => finish({ kind: 'error', message })),
			);
		});
		parser.on('end', () => finish({ kind: 'done', text, attachments }));

		const feed = async (): Promise<void> => {
			for (let offset = 0; offset < raw.length; offset += PARSE_CHUNK_BYTES) {
				if (settled) return;
				// subarray: a view of the caller's buffer, not a copy.
				const accepted = parser.write(raw.subarray(offset, offset + PARSE_CHUNK_BYTES));
				if (accepted) await yieldToEventLoop();
				else await waitForDrain(parser);
			}
			if (!settled) parser.end();
		};
		feed().catch((error: unknown) => finish({ kind: 'error', message: errorText(error) }));
	});
}

function waitForDrain(parser: MailParser): Promise<void> {
	return new Promise<void>((resolve) => {
		const done = (): void => {
			parser.off('drain', done);
			parser.off('close', done);
			resolve();
		};
		parser.on('drain', done);
		// A destroyed parser never drains; 'close' releases the wait.
		parser.on('close', done);
	});
}

function collectAttachment(
	data: AttachmentStream,
	options: ResolvedOptions,
	fail: (message: string) => void,
): CollectedAttachment {
	const contentId = data.cid ? data.cid : null;
	// Embedded in the HTML: in multipart/related with a Content-ID, unless the sender said
	// "attachment". An inline-disposition part without a Content-ID (Apple Mail's photos between
	// text blocks) is something the user sent, so it counts as an attachment.
	const inline =
		Boolean(contentId) && data.related === true && data.contentDisposition !== 'attachment';
	const entry: CollectedAttachment = {
		filename: data.filename,
		mimeType: (data.contentType || 'application/octet-stream').toLowerCase(),
		contentId,
		inline,
		keep: options.attachments && (!inline || options.includeInline),
		overCap: false,
		chunks: [],
		size: 0,
	};
	data.content.on('data', (chunk: Buffer) => {
		entry.size += chunk.length;
		if (!entry.keep) return;
		if (entry.size > options.maxAttachmentBytes) {
			// Over the cap: drop what was kept and only count the rest.
			entry.keep = false;
			entry.overCap = true;
			entry.chunks = [];
			return;
		}
		entry.chunks.push(chunk);
	});
	data.content.on('end', () => data.release?.());
	data.content.on('error', (error: unknown) => fail(errorText(error)));
	return entry;
}
