/**
 * The new text of a reply: quoted history and signature removed, with email-reply-parser.
 *
 * email-reply-parser is an ES module; n8n's Node (20.19 or newer) loads it with require().
 * Jest loads it through test/setup/esmToCjs.js, so tests run the same library.
 */
import EmailReplyParser from 'email-reply-parser';

import { errorText } from '../errors';
import { MAX_REPLY_SOURCE_CHARS } from './limits';

/** The reply part of a text and whether only its beginning was looked at. */
export interface ReplyResult {
	text: string;
	/** True when the text was longer than {@link MAX_REPLY_SOURCE_CHARS} and was cut first. */
	truncated: boolean;
	/** Set when the library failed on this text; `text` is then the whole (cut) text. */
	failed?: string;
}

let parser: EmailReplyParser | undefined;

/** Removes quoted history and signature from a plain-text body; the result is trimmed. */
export function extractReply(text: string): ReplyResult {
	const truncated = text.length > MAX_REPLY_SOURCE_CHARS;
	const source = (truncated ? text.slice(0, MAX_REPLY_SOURCE_CHARS) : text).replace(/\r\n?/g, '\n');
	if (source.trim() === '') return { text: '', truncated };
	parser ??= new EmailReplyParser();
	try {
		return { text: parser.parseReply(source).trim(), truncated };
	} catch (error) {
		// The library is regex-based; should it ever throw, the item still goes out, with a warning.
		return { text: source.trim(), truncated, failed: errorText(error) };
	}
}
