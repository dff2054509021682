/**
 * What a rewriting SMTP side does to a message it accepted, before it is delivered and copied
 * to Sent: a Message-ID of its own in place of the sender's, and no `X-` header fields. Only
 * the message's own header block changes; MIME parts and the body pass byte for byte.
 */
import { randomUUID } from 'node:crypto';

import type { SmtpRewrite } from './profiles';

/** The domain of the Message-IDs the rewriting server gives. */
export const REWRITTEN_ID_DOMAIN = 'smtp.sandbox.agentmail.test';

/** The message as the rewriting server passes it on; the same bytes when nothing applies. */
export function rewriteMessage(raw: Buffer, rewrite: SmtpRewrite): Buffer {
	if (!rewrite.newMessageId && !rewrite.dropXHeaders) return raw;
	const text = raw.toString('latin1');
	const match = /\r?\n\r?\n/.exec(text);
	// A message without a body: the whole text is its header block.
	const headerEnd = match ? match.index : text.length;
	const newline = text.includes('\r\n') ? '\r\n' : '\n';
	// One entry per field, its folded continuation lines included.
	const fields: string[] = [];
	for (const line of text.slice(0, headerEnd).split(/\r?\n/)) {
		if (/^[ \t]/.test(line) && fields.length > 0) fields[fields.length - 1] += newline + line;
		else fields.push(line);
	}
	const name = (field: string) => field.slice(0, field.indexOf(':')).trim().toLowerCase();
	const kept = fields.filter(
		(field) =>
			!(rewrite.dropXHeaders && name(field).startsWith('x-')) &&
			!(rewrite.newMessageId && name(field) === 'message-id'),
	);
	if (rewrite.newMessageId) kept.push(`Message-ID: <${randomUUID()}@${REWRITTEN_ID_DOMAIN}>`);
	return Buffer.concat([
		Buffer.from(kept.join(newline), 'latin1'),
		Buffer.from(text.slice(headerEnd), 'latin1'),
	]);
}
