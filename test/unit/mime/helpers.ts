/**
 * Shared pieces of the MIME tests: building messages with nodemailer's MailComposer, item meta,
 * the corpus.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

import MailComposer from 'nodemailer/lib/mail-composer';
import type Mail from 'nodemailer/lib/mailer';

import type { MessageMeta } from '../../../nodes/shared/mime/item';

export const INBOX = 'agent@agentmail.test';

export const CORPUS_DIR = path.join(__dirname, '../../fixtures/php-mime-mail-parser');

/** Corpus message file names (everything but LICENSE and README.md). */
export function corpusFiles(): string[] {
	return readdirSync(CORPUS_DIR)
		.filter((name) => name !== 'LICENSE' && name !== 'README.md')
		.sort();
}

export function readCorpus(name: string): Buffer {
	return readFileSync(path.join(CORPUS_DIR, name));
}

export function metaFor(raw: Buffer, uid = 7): MessageMeta {
	return { uid, folder: 'INBOX', flags: ['\\Recent'], size: raw.length };
}

/** Builds a raw message with nodemailer's MailComposer (CRLF line ends, as on the wire). */
export async function compose(options: Mail.Options): Promise<Buffer> {
	return new MailComposer({ newline: '\r\n', ...options }).compile().build();
}
