import { InputError } from '../../nodes/shared/errors';
import {
	quoteText,
	readOriginal,
	replyAddressing,
	replySubject,
} from '../../nodes/shared/smtp/reply';

const inbox = 'agent@agentmail.test';
const triggerItem = {
	messageId: '<m2@example.com>',
	subject: 'Question',
	from: { address: 'jane@example.com', name: 'Jane' },
	replyTo: [],
	to: [
		{ address: inbox, name: '' },
		{ address: 'colleague@example.com', name: 'Col' },
	],
	cc: [{ address: 'boss@example.com', name: '' }],
	references: ['<m1@example.com>'],
	text: 'line one\nline two',
	date: '2026-11-24T10:00:00.000Z',
};

describe('reply', () => {
	it('prefixes Re: exactly once', () => {
		expect(replySubject('Question')).toBe('Re: Question');
		expect(replySubject('Re: Question')).toBe('Re: Question');
		expect(replySubject('RE:Question')).toBe('RE:Question');
		expect(replySubject('Fwd: x')).toBe('Re: Fwd: x');
	});

	it('answers the sender and threads on the original Message-ID', () => {
		const r = replyAddressing(readOriginal(triggerItem), inbox, false);
		expect(r.to.map((m) => m.address)).toEqual(['jane@example.com']);
		expect(r.cc).toEqual([]);
		expect(r.inReplyTo).toBe('<m2@example.com>');
		expect(r.references).toEqual(['<m1@example.com>', '<m2@example.com>']);
	});

	it('prefers Reply-To, and replies to all minus the inbox itself', () => {
		const r = replyAddressing(
			readOriginal({ ...triggerItem, replyTo: [{ address: 'list@example.com', name: '' }] }),
			inbox,
			true,
		);
		expect(r.to.map((m) => m.address)).toEqual(['list@example.com']);
		expect(r.cc.map((m) => m.address)).toEqual(['colleague@example.com', 'boss@example.com']);
	});

	it('accepts hand-mapped fields (string From, References header text)', () => {
		const original = readOriginal({
			messageId: 'm3@example.com',
			from: 'Jane <jane@example.com>',
			references: '<m1@example.com> <m2@example.com>',
			subject: 'x',
		});
		expect(original.messageId).toBe('<m3@example.com>');
		expect(replyAddressing(original, inbox, false).references).toEqual([
			'<m1@example.com>',
			'<m2@example.com>',
			'<m3@example.com>',
		]);
	});

	it('refuses an original without a Message-ID', () => {
		expect(() => readOriginal({ ...triggerItem, messageId: '' })).toThrow(InputError);
		expect(() => readOriginal({ ...triggerItem, messageId: undefined })).toThrow(/no Message-ID/);
	});

	it('quotes the original text below the reply', () => {
		expect(quoteText('Thanks!', readOriginal(triggerItem))).toBe(
			'Thanks!\n\nOn 2026-11-24T10:00:00.000Z, Jane <jane@example.com> wrote:\n> line one\n> line two\n',
		);
	});
});
