import { joinBinary } from '../../../nodes/shared/mime/item';
import { headersOnlyItem, parseMessage } from '../../../nodes/shared/mime/toItem';
import { compose, INBOX, metaFor } from './helpers';

const PNG = Buffer.from(
	'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
	'base64',
);

/** A deterministic byte pattern (not random, so failures reproduce). */
function pattern(length: number): Buffer {
	const bytes = Buffer.alloc(length);
	for (let i = 0; i < length; i++) bytes[i] = (i * 7919 + (i >> 8)) & 0xff;
	return bytes;
}

describe('parseMessage: item shape', () => {
	it('fills every field of an ordinary message', async () => {
		const csv = Buffer.from('a,b\n1,2\n');
		const raw = await compose({
			from: { name: 'Jane Doe', address: 'jane@example.com' },
			to: [INBOX, { name: 'Col League', address: 'col@example.com' }],
			cc: 'boss@example.com',
			replyTo: 'jane+reply@example.com',
			subject: 'Quarterly numbers – Q3 ✓',
			date: new Date('2026-03-01T10:00:00Z'),
			messageId: '<m2@example.com>',
			inReplyTo: '<m1@example.com>',
			references: ['<m0@example.com>', '<m1@example.com>'],
			headers: { 'X-Tag': ['one', 'two'], 'X-Custom': 'custom value' },
			text: 'Here are the numbers.\n',
			attachments: [{ filename: 'numbers.csv', content: csv, contentType: 'text/csv' }],
		});
		const meta = {
			uid: 42,
			uidValidity: '1700000000',
			folder: 'INBOX',
			flags: ['\\Seen', '$Label'],
			size: raw.length,
		};
		const result = await parseMessage(raw, meta, { inbox: INBOX });

		expect(result.json).toEqual({
			uid: 42,
			uidValidity: '1700000000',
			folder: 'INBOX',
			messageId: '<m2@example.com>',
			inReplyTo: '<m1@example.com>',
			references: ['<m0@example.com>', '<m1@example.com>'],
			from: { address: 'jane@example.com', name: 'Jane Doe' },
			to: [
				{ address: INBOX, name: '' },
				{ address: 'col@example.com', name: 'Col League' },
			],
			cc: [{ address: 'boss@example.com', name: '' }],
			replyTo: [{ address: 'jane+reply@example.com', name: '' }],
			subject: 'Quarterly numbers – Q3 ✓',
			date: '2026-03-01T10:00:00.000Z',
			text: 'Here are the numbers.\n',
			html: null,
			replyText: 'Here are the numbers.',
			attachments: [
				{
					filename: 'numbers.csv',
					mimeType: 'text/csv',
					size: csv.length,
					binaryProperty: 'attachment_0',
					contentId: null,
					inline: false,
				},
			],
			headers: expect.any(Object),
			flags: ['\\Seen', '$Label'],
			size: raw.length,
			warnings: [],
		});
		expect(result.json.headers).toMatchObject({
			subject: 'Quarterly numbers – Q3 ✓',
			'message-id': '<m2@example.com>',
			'x-tag': ['one', 'two'],
			'x-custom': 'custom value',
			'mime-version': '1.0',
		});
		expect(result.json.headers['content-type']).toMatch(/^multipart\/mixed; boundary=/);
		expect(Object.keys(result.binaries)).toEqual(['attachment_0']);
		expect(result.binaries.attachment_0).toEqual({
			chunks: [csv],
			size: csv.length,
			fileName: 'numbers.csv',
			mimeType: 'text/csv',
		});
		expect(result.automatic).toEqual({ automatic: false, reason: null });
		// The item is plain JSON: it survives a round trip unchanged.
		expect(JSON.parse(JSON.stringify(result.json))).toEqual(result.json);
	});

	it('flattens groups, keeps repeated headers as arrays and reports an unreadable date', async () => {
		const raw = Buffer.from(
			[
				'Received: from a by b',
				'Received: from c by d',
				'From: =?utf-8?B?SsO2cmcgTcO8bGxlcg==?= <jorg@example.com>',
				'To: Team: a@example.com, "B, Person" <b@example.com>;, c@example.com',
				'Subject: =?utf-8?q?caf=C3?= =?utf-8?q?=A9_au_lait?=',
				'Date: not a date at all',
				'Message-ID: no-brackets@example.com',
				'References: <r1@example.com>',
				'  <r2@example.com>',
				'',
				'Body',
				'',
			].join('\r\n'),
		);
		const { json } = await parseMessage(raw, metaFor(raw));
		expect(json.from).toEqual({ address: 'jorg@example.com', name: 'Jörg Müller' });
		expect(json.to).toEqual([
			{ address: 'a@example.com', name: '' },
			{ address: 'b@example.com', name: 'B, Person' },
			{ address: 'c@example.com', name: '' },
		]);
		// A character split across two encoded words is put back together.
		expect(json.subject).toBe('café au lait');
		expect(json.messageId).toBe('<no-brackets@example.com>');
		expect(json.references).toEqual(['<r1@example.com>', '<r2@example.com>']);
		expect(json.headers.received).toEqual(['from a by b', 'from c by d']);
		expect(json.headers.references).toBe('<r1@example.com>  <r2@example.com>');
		expect(json.date).toBeNull();
		expect(json.warnings).toEqual(['the Date header "not a date at all" could not be read']);
		expect(json.text).toBe('Body\n');
	});

	it('uses the binary prefix and numbers only included attachments', async () => {
		const raw = await compose({
			from: 'a@example.com',
			subject: 'files',
			text: 'see files',
			attachments: [
				{ filename: 'one.txt', content: 'one' },
				{ filename: 'two.txt', content: 'two' },
			],
		});
		const result = await parseMessage(raw, metaFor(raw), { binaryPrefix: 'file_' });
		expect(result.json.attachments.map((a) => a.binaryProperty)).toEqual(['file_0', 'file_1']);
		expect(joinBinary(result.binaries.file_1).toString()).toBe('two');

		const metadataOnly = await parseMessage(raw, metaFor(raw), { attachments: false });
		expect(metadataOnly.binaries).toEqual({});
		expect(metadataOnly.json.attachments).toEqual([
			expect.objectContaining({ filename: 'one.txt', size: 3, binaryProperty: null }),
			expect.objectContaining({ filename: 'two.txt', size: 3, binaryProperty: null }),
		]);
		expect(metadataOnly.json.warnings).toEqual([]);
	});
});

describe('parseMessage: replyText', () => {
	it('removes a quoted "On ... wrote:" block', async () => {
		const raw = await compose({
			from: 'jane@example.com',
			to: INBOX,
			subject: 'Re: lunch',
			text: [
				'Sounds good, see you Tuesday.',
				'',
				'On Mon, Mar 2, 2026 at 9:00 AM Bob <bob@example.com> wrote:',
				'> Can we meet for lunch?',
				'> Bob',
				'',
			].join('\n'),
		});
		const { json } = await parseMessage(raw, metaFor(raw));
		expect(json.replyText).toBe('Sounds good, see you Tuesday.');
		expect(json.text).toContain('> Can we meet for lunch?');
	});

	it('removes a "-- " signature', async () => {
		const raw = await compose({
			from: 'jane@example.com',
			subject: 'thanks',
			text: 'Thanks for the quick answer!\n\n-- \nJane Doe\nACME Corp, Berlin\n',
		});
		const { json } = await parseMessage(raw, metaFor(raw));
		expect(json.replyText).toBe('Thanks for the quick answer!');
	});

	it('removes both, signature above the quote', async () => {
		const raw = await compose({
			from: 'jane@example.com',
			subject: 'Re: plan',
			text: [
				'Yes, ship it.',
				'',
				'-- ',
				'Jane',
				'',
				'On Tue, Mar 3, 2026 at 8:15 AM Bob <bob@example.com> wrote:',
				'> Ship it?',
			].join('\n'),
		});
		const { json } = await parseMessage(raw, metaFor(raw));
		expect(json.replyText).toBe('Yes, ship it.');
	});
});

describe('parseMessage: attachments', () => {
	const related = () =>
		compose({
			from: 'a@example.com',
			subject: 'logo',
			html: '<p>Our logo: <img src="cid:logo@acme"></p>',
			attachments: [
				{ filename: 'logo.png', content: PNG, cid: 'logo@acme', contentType: 'image/png' },
				{
					filename: 'report.pdf',
					content: Buffer.from('%PDF-1.4 fake'),
					contentType: 'application/pdf',
				},
			],
		});

	it('skips an inline cid image by default but lists it', async () => {
		const raw = await related();
		const result = await parseMessage(raw, metaFor(raw));
		expect(result.json.attachments).toEqual([
			{
				filename: 'logo.png',
				mimeType: 'image/png',
				size: PNG.length,
				binaryProperty: null,
				contentId: 'logo@acme',
				inline: true,
			},
			{
				filename: 'report.pdf',
				mimeType: 'application/pdf',
				size: 13,
				binaryProperty: 'attachment_0',
				contentId: null,
				inline: false,
			},
		]);
		expect(Object.keys(result.binaries)).toEqual(['attachment_0']);
		expect(result.binaries.attachment_0.fileName).toBe('report.pdf');
		// The HTML keeps its cid: link (no data: URL with the image copied into it).
		expect(result.json.html).toContain('src="cid:logo@acme"');
		expect(result.json.warnings).toEqual([]);
	});

	it('includes the inline image with includeInline', async () => {
		const raw = await related();
		const result = await parseMessage(raw, metaFor(raw), { includeInline: true });
		expect(result.json.attachments.map((a) => [a.filename, a.binaryProperty])).toEqual([
			['logo.png', 'attachment_0'],
			['report.pdf', 'attachment_1'],
		]);
		expect(joinBinary(result.binaries.attachment_0).equals(PNG)).toBe(true);
		expect(result.binaries.attachment_0.mimeType).toBe('image/png');
	});

	it('leaves out an attachment over maxAttachmentBytes, with a warning naming it', async () => {
		const big = pattern(5000);
		const raw = await compose({
			from: 'a@example.com',
			subject: 'sizes',
			text: 'two files',
			attachments: [
				{ filename: 'big.bin', content: big },
				{ filename: 'small.txt', content: 'tiny' },
			],
		});
		const result = await parseMessage(raw, metaFor(raw), { maxAttachmentBytes: 1000 });
		expect(result.json.attachments).toEqual([
			expect.objectContaining({ filename: 'big.bin', size: 5000, binaryProperty: null }),
			expect.objectContaining({ filename: 'small.txt', size: 4, binaryProperty: 'attachment_0' }),
		]);
		expect(Object.keys(result.binaries)).toEqual(['attachment_0']);
		expect(joinBinary(result.binaries.attachment_0).toString()).toBe('tiny');
		expect(result.json.warnings).toEqual([
			'attachment "big.bin" (5000 bytes) is larger than the 1000-byte limit and was left out',
		]);

		// Exactly at the cap is still included.
		const atCap = await parseMessage(raw, metaFor(raw), { maxAttachmentBytes: 5000 });
		expect(joinBinary(atCap.binaries.attachment_0).equals(big)).toBe(true);
		expect(atCap.json.warnings).toEqual([]);
	});

	it('generates a file name when the sender gave none, and strips paths', async () => {
		const raw = await compose({
			from: 'a@example.com',
			subject: 'names',
			text: 'files',
			attachments: [
				{ filename: false, content: PNG, contentType: 'image/png' },
				{ filename: false, content: Buffer.from('%PDF'), contentType: 'application/pdf' },
				{ filename: false, content: Buffer.from('x'), contentType: 'application/x-unknown-thing' },
				{ filename: '../../etc/passwd', content: Buffer.from('root') },
				{ filename: `${'n'.repeat(300)}.pdf`, content: Buffer.from('%PDF') },
			],
		});
		const result = await parseMessage(raw, metaFor(raw));
		expect(result.json.attachments.map((a) => a.filename)).toEqual([
			'attachment-1.png',
			'attachment-2.pdf',
			'attachment-3.bin',
			'passwd',
			`${'n'.repeat(251)}.pdf`,
		]);
		expect(result.binaries.attachment_0.fileName).toBe('attachment-1.png');
		expect(result.json.warnings).toEqual([
			'attachment name "../../etc/passwd" was changed to "passwd"',
			`attachment name "${'n'.repeat(79)}…" was shortened to 255 characters`,
		]);
	});

	it('returns the whole message as raw with includeRaw, and not by default', async () => {
		const raw = await compose({ from: 'a@example.com', subject: 'raw', text: 'keep me' });
		const withRaw = await parseMessage(raw, metaFor(raw), { includeRaw: true });
		expect(withRaw.binaries.raw.fileName).toBe('message.eml');
		expect(withRaw.binaries.raw.mimeType).toBe('message/rfc822');
		expect(joinBinary(withRaw.binaries.raw).equals(raw)).toBe(true);
		const without = await parseMessage(raw, metaFor(raw));
		expect(without.binaries).toEqual({});
	});
});

describe('parseMessage: unusual bodies', () => {
	it('derives text and replyText from a message that is only HTML', async () => {
		const html =
			'<p>Works for <b>me</b>.</p>' +
			'<p>On Mon, Mar 2, 2026 at 9:00 AM Bob &lt;bob@example.com&gt; wrote:</p>' +
			'<blockquote><p>Lunch on Friday?</p></blockquote>';
		const raw = await compose({ from: 'jane@example.com', subject: 'Re: lunch', html });
		const { json } = await parseMessage(raw, metaFor(raw));
		expect(json.html?.trim()).toBe(html);
		expect(json.text).toContain('Works for me.');
		expect(json.text).toContain('> Lunch on Friday?');
		expect(json.replyText).toBe('Works for me.');
		expect(json.warnings).toEqual([]);
	});

	it('derives text from HTML also when the HTML sits in a multipart with an attachment', async () => {
		const raw = await compose({
			from: 'jane@example.com',
			subject: 'html and file',
			html: '<div>Please find the <i>invoice</i> attached.</div>',
			attachments: [{ filename: 'invoice.pdf', content: Buffer.from('%PDF') }],
		});
		const { json } = await parseMessage(raw, metaFor(raw));
		expect(json.text.trim()).toBe('Please find the invoice attached.');
		expect(json.replyText).toBe('Please find the invoice attached.');
		expect(json.attachments.map((a) => a.filename)).toEqual(['invoice.pdf']);
	});

	it('gives empty text for a message without a body', async () => {
		const raw = Buffer.from('From: a@example.com\r\nSubject: empty\r\n\r\n');
		const { json } = await parseMessage(raw, metaFor(raw));
		expect(json).toMatchObject({
			subject: 'empty',
			text: '',
			html: null,
			replyText: '',
			attachments: [],
			warnings: [],
		});
	});

	it('turns garbage bytes into one item with warnings', async () => {
		const raw = pattern(4096);
		const result = await parseMessage(raw, metaFor(raw, 99));
		expect(result.json.uid).toBe(99);
		expect(result.json.from).toBeNull();
		expect(result.json.messageId).toBeNull();
		expect(result.json.subject).toBe('');
		expect(result.json.warnings).toContain('no header fields were found');
		expect(result.automatic).toEqual({ automatic: false, reason: null });
	});

	it('turns an empty buffer into one item with a warning', async () => {
		const result = await parseMessage(Buffer.alloc(0), metaFor(Buffer.alloc(0)));
		expect(result.json.warnings).toEqual(['the message is empty']);
		expect(result.json.text).toBe('');
	});

	it('reports a multipart without boundary and one that is never closed', async () => {
		const noBoundary = Buffer.from(
			'From: a@example.com\r\nContent-Type: multipart/mixed\r\n\r\nsome text\r\n',
		);
		const first = await parseMessage(noBoundary, metaFor(noBoundary));
		expect(first.json.warnings).toEqual([
			'the message is multipart/mixed but names no boundary: its parts cannot be told apart and it is read as one body',
		]);
		const truncated = Buffer.from(
			[
				'From: a@example.com',
				'Content-Type: multipart/mixed; boundary="b1"',
				'',
				'--b1',
				'Content-Type: text/plain',
				'',
				'the start of a message that was cut o',
			].join('\r\n'),
		);
		const second = await parseMessage(truncated, metaFor(truncated));
		expect(second.json.text).toContain('the start of a message');
		expect(second.json.warnings).toEqual([
			'the message (multipart/mixed) is never closed by its final boundary: the message may be truncated',
		]);
	});

	it('reports bytes that are not valid in the declared charset', async () => {
		const raw = Buffer.concat([
			Buffer.from('From: a@example.com\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nDet h'),
			Buffer.from([0xe4]),
			Buffer.from('r\r\n'),
		]);
		const { json } = await parseMessage(raw, metaFor(raw));
		expect(json.text).toBe('Det h\uFFFDr\n');
		expect(json.warnings).toEqual([
			'the body contains bytes that are not valid in its charset (utf-8): they are shown as U+FFFD',
		]);
	});
});

describe('time box', () => {
	const bigMessage = () =>
		compose({
			from: 'a@example.com',
			to: INBOX,
			subject: 'big one',
			messageId: '<big@example.com>',
			text: 'see attachment',
			attachments: [{ filename: 'big.bin', content: pattern(8 * 1024 * 1024) }],
		});

	it('returns a headers-only item with a warning when parsing exceeds parseTimeoutMs', async () => {
		const raw = await bigMessage();
		// 8 MiB of base64 fed in 64 KiB slices, each followed by a turn of the event loop, cannot
		// be parsed within 1 ms on any machine, and the 1 ms timer fires at the first turn.
		const result = await parseMessage(raw, metaFor(raw), { parseTimeoutMs: 1, includeRaw: true });
		expect(result.json).toMatchObject({
			subject: 'big one',
			messageId: '<big@example.com>',
			from: { address: 'a@example.com', name: '' },
			text: '',
			html: null,
			replyText: '',
			attachments: [],
			warnings: ['parsing took longer than 1 ms: only the headers are given'],
		});
		// Nothing but the requested raw message.
		expect(Object.keys(result.binaries)).toEqual(['raw']);
	});

	it('parses the same message in full within the default time box', async () => {
		const raw = await bigMessage();
		const result = await parseMessage(raw, metaFor(raw));
		expect(result.json.warnings).toEqual([]);
		expect(result.json.attachments).toEqual([
			expect.objectContaining({ filename: 'big.bin', size: 8 * 1024 * 1024 }),
		]);
		expect(joinBinary(result.binaries.attachment_0).equals(pattern(8 * 1024 * 1024))).toBe(true);
	});
});

describe('headersOnlyItem', () => {
	it('fills what the header block holds', async () => {
		const raw = await compose({
			from: { name: 'Jane', address: 'jane@example.com' },
			to: INBOX,
			cc: 'c@example.com',
			subject: 'A very large message',
			date: new Date('2026-05-05T05:05:05Z'),
			messageId: '<large@example.com>',
			references: '<r1@example.com>',
			text: 'body that is never read',
			attachments: [{ filename: 'a.bin', content: pattern(100) }],
		});
		// The header lines without the blank line after them, as a trimmed fetch may give them.
		const headerBytes = raw.subarray(0, raw.indexOf('\r\n\r\n') + 2);
		const reason =
			'the message is 31457280 bytes, over the 26214400-byte limit: only its headers are given';
		const result = headersOnlyItem(
			headerBytes,
			{ uid: 5, folder: 'INBOX', flags: [], size: 31457280 },
			reason,
		);
		expect(result.json).toEqual({
			uid: 5,
			// Not given in the meta: not known.
			uidValidity: '',
			folder: 'INBOX',
			messageId: '<large@example.com>',
			inReplyTo: null,
			references: ['<r1@example.com>'],
			from: { address: 'jane@example.com', name: 'Jane' },
			to: [{ address: INBOX, name: '' }],
			cc: [{ address: 'c@example.com', name: '' }],
			replyTo: [],
			subject: 'A very large message',
			date: '2026-05-05T05:05:05.000Z',
			text: '',
			html: null,
			replyText: '',
			attachments: [],
			headers: expect.objectContaining({ subject: 'A very large message' }),
			flags: [],
			size: 31457280,
			warnings: [reason],
		});
		expect(result.binaries).toEqual({});
		// The whole message works too: reading stops at the blank line.
		const fromWhole = headersOnlyItem(raw, metaFor(raw), reason);
		expect(fromWhole.json.subject).toBe('A very large message');
		expect(fromWhole.json.text).toBe('');
	});

	it('classifies the headers it read', () => {
		const header = Buffer.from(
			'From: MAILER-DAEMON@mx.example.com\r\nSubject: Undeliverable\r\n\r\n',
		);
		const result = headersOnlyItem(header, metaFor(header), 'too big');
		expect(result.automatic).toEqual({
			automatic: true,
			reason: 'bounce: From MAILER-DAEMON@mx.example.com',
		});
	});

	it('never throws, even for garbage', () => {
		const result = headersOnlyItem(pattern(2048), metaFor(pattern(2048)), 'too big');
		expect(result.json.warnings[0]).toBe('too big');
		expect(result.json.subject).toBe('');
	});
});
