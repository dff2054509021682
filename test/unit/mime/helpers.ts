/**
 * Shared pieces of the MIME tests: building messages with nodemailer's MailComposer, item meta
 * (the corpus is in tools/corpus.ts).
 */
import MailComposer from 'nodemailer/lib/mail-composer';
import type Mail from 'nodemailer/lib/mailer';

import type { MessageMeta } from '../../../nodes/shared/mime/item';

export const INBOX = 'agent@agentmail.test';

export function metaFor(raw: Buffer, uid = 7): MessageMeta {
	return { uid, folder: 'INBOX', flags: ['\\Recent'], size: raw.length };
}

/** Builds a raw message with nodemailer's MailComposer (CRLF line ends, as on the wire). */
export async function compose(options: Mail.Options): Promise<Buffer> {
	return new MailComposer({ newline: '\r\n', ...options }).compile().build();
}
