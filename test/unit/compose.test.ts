import { simpleParser } from 'mailparser';

import { composeMessage } from '../../nodes/shared/smtp/compose';
import { InputError, LimitError } from '../../nodes/shared/errors';
import {
	MAX_MESSAGE_BYTES,
	MAX_RECIPIENTS,
	parseRecipients,
	uniqueRecipients,
} from '../../nodes/shared/smtp/limits';

const inbox = 'agent@agentmail.test';
const many = (n: number, domain = 'example.com') =>
	Array.from({ length: n }, (_, k) => `user${k}@${domain}`);

describe('recipients', () => {
	it('parses display names, lists and trigger-style objects', () => {
		expect(parseRecipients('To', 'jane@example.com, "Bob Smith" <bob@example.com>')).toEqual([
			{ address: 'jane@example.com', name: '' },
			{ address: 'bob@example.com', name: 'Bob Smith' },
		]);
		expect(
			parseRecipients('To', ['a@example.com', { address: 'b@example.com', name: 'B' }]),
		).toEqual([
			{ address: 'a@example.com', name: '' },
			{ address: 'b@example.com', name: 'B' },
		]);
	});

	it.each([['not-an-address'], ['jane@'], ['jane@example'], ['jane@@example.com']])(
		'refuses the malformed address %s, naming it',
		(bad) => {
			expect(() => parseRecipients('CC', bad)).toThrow(InputError);
			expect(() => parseRecipients('CC', bad)).toThrow(
				/CC has ".+", which is not a valid email address/,
			);
		},
	);

	it('counts duplicates across To, CC and BCC once, ignoring case', () => {
		const to = parseRecipients('To', 'A@example.com, b@example.com');
		const cc = parseRecipients('CC', 'a@EXAMPLE.com');
		const bcc = parseRecipients('BCC', 'b@example.com, c@example.com');
		expect(uniqueRecipients(to, cc, bcc)).toEqual([
			'A@example.com',
			'b@example.com',
			'c@example.com',
		]);
	});
});

describe('composeMessage checks', () => {
	it('accepts 50 recipients and refuses 51, saying how many there are', async () => {
		await expect(
			composeMessage({ inbox, to: many(MAX_RECIPIENTS), subject: 's', text: 't' }),
		).resolves.toBeDefined();
		await expect(
			composeMessage({
				inbox,
				to: many(30),
				cc: many(20, 'cc.example.com'),
				bcc: many(1, 'bcc.example.com'),
				text: 't',
			}),
		).rejects.toThrow('The message has 51 recipients');
	});

	it('does not count a recipient repeated in CC twice', async () => {
		const built = await composeMessage({ inbox, to: many(50), cc: many(50), text: 't' });
		expect(built.envelope.to).toHaveLength(50);
	});

	it('refuses CR or LF in the subject, names and custom headers', async () => {
		await expect(
			composeMessage({ inbox, to: 'a@example.com', subject: 'Hi\r\nBcc: x@evil.test' }),
		).rejects.toThrow(/Subject contains a line break/);
		await expect(
			composeMessage({ inbox, to: 'a@example.com', fromName: 'Bot\nX: y' }),
		).rejects.toThrow(/Sender Name contains a line break/);
		await expect(
			composeMessage({ inbox, to: 'a@example.com', headers: { 'X-Note': 'a\nBcc: x@evil.test' } }),
		).rejects.toThrow(/Custom header X-Note contains a line break/);
		await expect(
			composeMessage({ inbox, to: 'Eve <a@example.com>\r\nBcc: x@evil.test' }),
		).rejects.toThrow(/To contains a line break/);
	});

	it('refuses a From other than the inbox, naming the inbox', async () => {
		await expect(
			composeMessage({ inbox, to: 'a@example.com', headers: { From: 'ceo@example.com' } }),
		).rejects.toThrow(`From must be ${inbox}`);
		// Restating the inbox itself is fine.
		await expect(
			composeMessage({ inbox, to: 'a@example.com', headers: { From: inbox } }),
		).resolves.toBeDefined();
	});

	it('refuses custom headers that would override structural ones', async () => {
		await expect(
			composeMessage({ inbox, to: 'a@example.com', headers: { Bcc: 'x@example.com' } }),
		).rejects.toThrow(/Custom header Bcc cannot be set here/);
	});

	it('measures the encoded size, base64 included, against 10 MB', async () => {
		// 7.6 MiB of bytes become about 10.3 MiB once base64-encoded.
		const content = Buffer.alloc(Math.ceil(MAX_MESSAGE_BYTES * 0.76), 7);
		const error = await composeMessage({
			inbox,
			to: 'a@example.com',
			attachments: [{ filename: 'big.bin', content }],
		}).catch((e: Error) => e);
		expect(error).toBeInstanceOf(LimitError);
		expect((error as Error).message).toMatch(
			/The encoded message is 10\.\d MB \(10,\d{3},\d{3} bytes\)/,
		);
		const small = await composeMessage({
			inbox,
			to: 'a@example.com',
			attachments: [{ filename: 'ok.bin', content: Buffer.alloc(MAX_MESSAGE_BYTES / 2) }],
		});
		expect(small.size).toBe(small.raw.length);
		expect(small.size).toBeGreaterThan((MAX_MESSAGE_BYTES / 2) * 1.33);
	});
});

describe('composeMessage output', () => {
	it('builds a message that parses back with the same fields; BCC only in the envelope', async () => {
		const built = await composeMessage({
			inbox,
			fromName: 'Support Bot',
			to: 'Jane <jane@example.com>',
			cc: 'cc@example.com',
			bcc: 'hidden@example.com',
			replyTo: 'help@example.com',
			subject: 'Grüße ✓',
			text: 'plain body',
			html: '<p>html body</p>',
			inReplyTo: 'orig@example.com',
			references: '<root@example.com> <orig@example.com>',
			headers: { 'X-Ticket-ID': '42' },
			attachments: [
				{ filename: 'a.txt', content: Buffer.from('hello'), contentType: 'text/plain' },
			],
		});
		const parsed = await simpleParser(built.raw);
		expect(parsed.from?.value).toEqual([{ address: inbox, name: 'Support Bot' }]);
		expect(parsed.subject).toBe('Grüße ✓');
		expect(parsed.text?.trim()).toBe('plain body');
		expect(parsed.html).toContain('<p>html body</p>');
		expect(parsed.messageId).toBe(built.messageId);
		expect(built.messageId).toMatch(/^<[0-9a-f-]+@agentmail\.test>$/);
		expect(parsed.inReplyTo).toBe('<orig@example.com>');
		expect(parsed.references).toEqual(['<root@example.com>', '<orig@example.com>']);
		expect(parsed.headers.get('x-ticket-id')).toBe('42');
		expect(parsed.headers.has('bcc')).toBe(false);
		expect(built.raw.toString()).not.toContain('hidden@example.com');
		expect(built.envelope).toEqual({
			from: inbox,
			to: ['jane@example.com', 'cc@example.com', 'hidden@example.com'],
		});
		expect(parsed.attachments.map((a) => [a.filename, a.content.toString()])).toEqual([
			['a.txt', 'hello'],
		]);
	});
});
