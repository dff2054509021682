/**
 * Every message of the php-mime-mail-parser corpus (real-world and deliberately broken mail)
 * through parseMessage: one item each, no throw, within the time box, fields matching an
 * independent reading (mailparser's simpleParser for headers and attachments, a plain base64
 * decode of the raw part for attachment bytes, and hand-checked values for a handful).
 */
import { corpusFiles, readCorpus } from '../../../tools/corpus';
import { simpleParser, type ParsedMail } from 'mailparser';

import { joinBinary, type ParsedMessage } from '../../../nodes/shared/mime/item';
import { parseMessage } from '../../../nodes/shared/mime/toItem';
import { metaFor } from './helpers';

/** Each corpus message must be done well within the 10 s default parse timeout. */
const CORPUS_TIME_BOX_MS = 3000;

const NOT_UTF8 =
	'the body contains bytes that are not valid in its charset (utf-8): they are shown as U+FFFD';
const NO_BODY = 'the message has no blank line after its headers: it has no body';

/** The warnings each corpus message should produce (hand-checked against the files). */
const EXPECTED_WARNINGS: Record<string, string[]> = {
	// A bounce cut off after its first part: neither multipart is closed.
	'failure.eml': [
		'the message (multipart/report) is never closed by its final boundary: the message may be truncated',
		'part 1 (multipart/alternative) is never closed by its final boundary: the message may be truncated',
	],
	issue133: ['attachment name "attach/01" was changed to "01"'],
	// Folded header lines that lost their leading whitespace.
	issue84: ['14 header line(s) were not valid header fields and were ignored'],
	// A first line of nothing but spaces.
	m0011: ['1 header line(s) were not valid header fields and were ignored'],
	m0012: ['1 header line(s) were not valid header fields and were ignored'],
	// Messages that end inside their header block, with names that hold a line break or a path.
	issue250: [
		NO_BODY,
		'attachment name "Kontoutskrift for 1506.14.90466\\nBedriftskonto.pdf" was changed to "Kontoutskrift for 1506.14.90466 Bedriftskonto.pdf"',
	],
	m0027: [NO_BODY, 'attachment name "1234/../../1234.txt" was changed to "1234.txt"'],
	m0124: [NO_BODY, 'attachment name "1234/../../1234.txt" was changed to "1234.txt"'],
	// Windows Live Mail wrote Latin-1 bytes into a part declared UTF-8.
	m0019: [NOT_UTF8],
	m0022: [NOT_UTF8],
	m0023: [NOT_UTF8],
};

const parsed = new Map<string, { result: ParsedMessage; reference: ParsedMail }>();

async function load(name: string): Promise<{ result: ParsedMessage; reference: ParsedMail }> {
	const cached = parsed.get(name);
	if (cached) return cached;
	const raw = readCorpus(name);
	const result = await parseMessage(raw, metaFor(raw), { includeInline: true });
	const reference = await simpleParser(raw, { skipImageLinks: true });
	const entry = { result, reference };
	parsed.set(name, entry);
	return entry;
}

/** Decodes the base64 body of the part whose headers contain `marker`, independently of any parser. */
function base64PartAfter(raw: Buffer, marker: string): Buffer {
	const text = raw.toString('latin1');
	const at = text.indexOf(marker);
	const blank = /\r?\n\r?\n/g;
	blank.lastIndex = at;
	const headerEnd = blank.exec(text);
	if (at < 0 || !headerEnd) return Buffer.alloc(0);
	const start = headerEnd.index + headerEnd[0].length;
	const end = text.indexOf('\n--', start);
	return Buffer.from(text.slice(start, end < 0 ? undefined : end), 'base64');
}

describe('corpus: every message', () => {
	const files = corpusFiles();

	it('has the 46 messages of the corpus', () => {
		expect(files).toHaveLength(46);
	});

	it.each(files)(
		'%s: one item, in time, expected warnings, fields as simpleParser reads them',
		async (name) => {
			const started = Date.now();
			const { result, reference } = await load(name);
			expect(Date.now() - started).toBeLessThan(CORPUS_TIME_BOX_MS);

			const raw = readCorpus(name);
			const { json, binaries } = result;
			expect(json.uid).toBe(7);
			expect(json.size).toBe(raw.length);
			expect(json.warnings).toEqual(EXPECTED_WARNINGS[name] ?? []);

			expect(json.subject).toBe(reference.subject ?? '');
			expect(json.messageId).toBe(reference.messageId ?? null);
			expect(json.from?.address ?? null).toBe(reference.from?.value[0]?.address ?? null);
			const referenceTo = [reference.to ?? []]
				.flat()
				.flatMap((group) => group.value)
				.map((entry) => entry.address)
				.filter(Boolean);
			expect(json.to.map((entry) => entry.address)).toEqual(referenceTo);
			if (json.date !== null) expect(json.date).toBe(reference.date?.toISOString());

			expect(json.attachments).toHaveLength(reference.attachments.length);
			json.attachments.forEach((attachment, i) => {
				const expected = reference.attachments[i];
				expect(attachment.size).toBe(expected.size);
				expect(attachment.mimeType).toBe(expected.contentType.toLowerCase());
				expect(attachment.contentId).toBe(expected.cid ?? null);
				// Names without path or control characters are kept as the sender gave them.
				const plain = (name: string) =>
					![...name].some((c) => c === '/' || c === '\\' || c.charCodeAt(0) < 0x20);
				if (expected.filename && plain(expected.filename)) {
					expect(attachment.filename).toBe(expected.filename);
				}
				expect(attachment.binaryProperty).toBe(`attachment_${i}`);
				const binary = binaries[`attachment_${i}`];
				expect(joinBinary(binary).length).toBe(attachment.size);
				expect(joinBinary(binary).equals(expected.content)).toBe(true);
				expect(binary.fileName).toBe(attachment.filename);
			});
			expect(Object.keys(binaries)).toHaveLength(json.attachments.length);
		},
	);
});

describe('corpus: hand-checked messages', () => {
	it('m0001: one small attachment, Latin-1 subject', async () => {
		const { result } = await load('m0001');
		expect(result.json).toMatchObject({
			subject: 'Mail avec fichier attaché de 1ko',
			from: { address: 'name@company.com', name: 'Name' },
			to: [{ address: 'name@company2.com', name: '' }],
			date: '2013-06-16T15:50:12.000Z',
			messageId: '<CAH_ZkVmUSM8t2JxgqcuLCQ8d+R_hkKpNHTubJOQK07y=36+d4Q@mail.gmail.com>',
			attachments: [
				{
					filename: 'attach01',
					mimeType: 'application/octet-stream',
					size: 2,
					binaryProperty: 'attachment_0',
					contentId: null,
					inline: false,
				},
			],
		});
		expect(joinBinary(result.binaries.attachment_0).toString()).toBe('a\n');
	});

	it.each([
		['m0002', 'filename=attach02', 2229],
		['m0003', 'filename=attach03', 13369],
		['m0004', 'filename=attach04', 817938],
		['m0005', 'filename=attach05', 1635877],
	])('%s: attachment bytes equal a plain base64 decode of the part', async (name, marker, size) => {
		const { result } = await load(name);
		const independent = base64PartAfter(readCorpus(name), marker);
		expect(independent.length).toBe(size);
		expect(result.json.attachments[0].size).toBe(size);
		expect(joinBinary(result.binaries.attachment_0).equals(independent)).toBe(true);
	});

	it('m0010: an attachment without a name gets one', async () => {
		const { result } = await load('m0010');
		expect(result.json.attachments).toEqual([
			expect.objectContaining({ filename: 'attachment-1.bin', size: 817938 }),
		]);
	});

	it('m0008: inline cid images are skipped unless asked for', async () => {
		const raw = readCorpus('m0008');
		const { json, binaries } = await parseMessage(raw, metaFor(raw));
		expect(json.attachments.map((a) => [a.filename, a.inline, a.binaryProperty])).toEqual([
			['logo.jpg', true, null],
			['background.jpg', true, null],
			['attachment.txt', false, 'attachment_0'],
		]);
		expect(Object.keys(binaries)).toEqual(['attachment_0']);
	});

	it('issue274: five attachments of different kinds, names kept', async () => {
		const { result } = await load('issue274.eml');
		expect(result.json.attachments.map((a) => [a.filename, a.mimeType])).toEqual([
			[
				'Hello from SwiftMailer.docx',
				'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
			],
			['Hello from SwiftMailer.pdf', 'application/pdf'],
			['Hello from SwiftMailer.odt', 'application/vnd.oasis.opendocument.text'],
			['Cours-Tutoriels-Serge-Tahé-1568x268.png', 'image/png'],
			['test-localhost.eml', 'message/rfc822'],
		]);
		expect(joinBinary(result.binaries.attachment_1).subarray(0, 5).toString()).toBe('%PDF-');
	});

	it('issue408: more than 300 attachments', async () => {
		const { result } = await load('issue408.eml');
		expect(result.json.attachments).toHaveLength(328);
		expect(Object.keys(result.binaries)).toHaveLength(328);
		expect(result.json.attachments[327].filename).toBe('9198540_1608_01042023_328.txt');
	});

	it('issue116 and m0021: ISO-2022-JP and windows-1251 subjects', async () => {
		expect((await load('issue116')).result.json.subject).toBe('ЖД№41 от 28.09.2016');
		const m0021 = (await load('m0021')).result.json;
		expect(m0021.subject).toBe(
			'occurs when divided into an array, and the last e of the array! Путін хуйло!!!!!!',
		);
		expect(m0021.to.map((a) => a.address)).toEqual([
			'mail@exemple.com',
			'mail2@exemple3.com',
			'mail3@exemple2.com',
		]);
	});

	it('m0124: an encoded display name with quotes', async () => {
		const { result } = await load('m0124');
		expect(result.json.from).toEqual({
			address: 'user@domain.ru',
			name: 'ФГУП "СибНИА им.С.А.Чаплыгина""',
		});
	});

	it('issue84: replyText keeps the answer, not the quoted RFC', async () => {
		const { result } = await load('issue84');
		expect(result.json.inReplyTo).toBe(
			'<CAFMT4NpJxuuqc-wTr1aE4K+wZBT8+04j+9-SsY+nhUMU83fDUg@mail.gmail.com>',
		);
		expect(result.json.text).toContain('> Dear Internals,');
		expect(result.json.replyText).toBe('+1 from me.');
	});

	it('m0129: HTML-only multipart/related gives text without the image reference', async () => {
		const { result } = await load('m0129');
		expect(result.json.text.trim()).toBe('Inline');
		expect(result.json.attachments).toEqual([
			expect.objectContaining({ mimeType: 'image/png', inline: true, size: 11293 }),
		]);
	});

	it('failure.eml: a delivery report is automatic', async () => {
		const { result } = await load('failure.eml');
		expect(result.automatic).toEqual({
			automatic: true,
			reason: 'bounce or report: Content-Type multipart/report; report-type=delivery-status',
		});
	});

	it('only failure.eml is automatic', async () => {
		const automatic: string[] = [];
		for (const name of corpusFiles()) {
			if ((await load(name)).result.automatic.automatic) automatic.push(name);
		}
		expect(automatic).toEqual(['failure.eml']);
	});
});
