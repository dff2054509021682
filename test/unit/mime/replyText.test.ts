import { extractReply } from '../../../nodes/shared/mime/replyText';

describe('extractReply (email-reply-parser)', () => {
	it('cuts quoted history and signatures', () => {
		expect(
			extractReply('Yes.\n\nOn Mon, Mar 2, 2026 at 9:00 AM Bob <b@example.com> wrote:\n> Ok?\n')
				.text,
		).toBe('Yes.');
		expect(
			extractReply('Hi\n\nCheers,\nJane\n\nOn Mon, Jan 5, 2026 at 1:00 PM Bob <b@x.io> wrote:\n> q')
				.text,
		).toBe('Hi');
		expect(extractReply('Thanks!\n-- \nJane\n').text).toBe('Thanks!');
		expect(extractReply('Top\n\n> quoted\n> more\n\n').text).toBe('Top');
	});

	it('returns empty text for an empty body', () => {
		expect(extractReply('  \r\n ')).toEqual({ text: '', truncated: false });
	});

	it('only reads the start of very long text', () => {
		const result = extractReply('x'.repeat(200_000));
		expect(result.truncated).toBe(true);
		expect(result.text).toHaveLength(64 * 1024);
	});
});
