import {
	behaviourOf,
	matchCopies,
	type CopyHeaders,
	type SentMessage,
} from '../../nodes/shared/smtp/sentCopy';

const date = Date.parse('2026-01-02T03:04:05Z');
const message = (name: string, extra: Partial<SentMessage> = {}): SentMessage => ({
	messageId: `<${name}@agentmail.test>`,
	subject: `Subject ${name}`,
	date,
	recipients: ['peer@agentmail.test'],
	inReplyTo: null,
	...extra,
});
/** The copy a rewriting server keeps of `sent`: its own Message-ID, no marks. */
const rewritten = (
	uid: number,
	sent: SentMessage,
	extra: Partial<CopyHeaders> = {},
): CopyHeaders => ({
	uid,
	messageId: `<server.${uid}@smtp.example>`,
	hashes: [],
	subject: sent.subject,
	date: sent.date,
	recipients: sent.recipients.map((r) => r.toUpperCase()),
	inReplyTo: sent.inReplyTo,
	...extra,
});

describe('matchCopies', () => {
	it('a copy with our Message-ID or our hash is that message’s, whatever its contents', () => {
		const a = message('a');
		const b = message('b', { hash: 'h-b' });
		const copies = [
			rewritten(1, a, { messageId: a.messageId, subject: 'changed' }),
			rewritten(2, b, { hashes: ['h-b'], subject: 'changed too' }),
		];
		expect(matchCopies([a, b], copies)).toEqual(
			new Map([
				[0, { uid: 1, messageId: a.messageId, by: 'messageId' }],
				[1, { uid: 2, messageId: '<server.2@smtp.example>', by: 'hash' }],
			]),
		);
	});

	it('without marks, the one copy with the same subject, Date, recipients and In-Reply-To', () => {
		const a = message('a', { inReplyTo: '<q@x>' });
		const other = message('other');
		const found = matchCopies([a], [rewritten(7, other), rewritten(8, a)]);
		expect(found).toEqual(
			new Map([[0, { uid: 8, messageId: '<server.8@smtp.example>', by: 'contents' }]]),
		);
	});

	it('never takes a copy that differs in one of those, nor one carrying another message’s hash', () => {
		const a = message('a', { hash: 'h-a', inReplyTo: '<q@x>' });
		for (const change of [
			{ subject: 'Subject b' },
			{ date: date + 1000 },
			{ recipients: ['someone@else.example'] },
			{ inReplyTo: '<other@x>' },
			{ hashes: ['h-other'] },
		]) {
			expect(matchCopies([a], [rewritten(1, a, change)]).size).toBe(0);
		}
	});

	it('two messages alike, or two alike copies: neither is matched by contents', () => {
		const a = message('a');
		const twin = { ...a, messageId: '<twin@agentmail.test>' };
		expect(matchCopies([a, twin], [rewritten(1, a), rewritten(2, twin)]).size).toBe(0);
		expect(matchCopies([a], [rewritten(1, a), rewritten(2, a)]).size).toBe(0);
	});
});

describe('behaviourOf', () => {
	const folder = 'Sent';
	it('names what the copies show of the server', () => {
		const plain = message('p');
		const once = message('o', { hash: 'h' });
		const copy = (by: 'messageId' | 'hash' | 'contents') => ({ uid: 1, messageId: '<c@x>', by });
		const of = (sent: SentMessage[], copies: Array<[number, ReturnType<typeof copy>]>) =>
			behaviourOf(sent, { folder, copies: new Map(copies) });
		expect(of([], [])).toBeUndefined();
		expect(of([plain], [])).toBe('no-copy');
		expect(of([plain], [[0, copy('messageId')]])).toBe('keeps-message-id');
		expect(of([plain], [[0, copy('contents')]])).toBe('rewrites');
		expect(of([once], [[0, copy('hash')]])).toBe('rewrites');
		// A send once message known only by its contents: its marks were removed.
		expect(of([once], [[0, copy('contents')]])).toBe('drops-marks');
	});
});
