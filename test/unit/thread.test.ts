import { orderThread, type ThreadMember } from '../../nodes/shared/imap/thread';

const member = (
	messageId: string,
	storedAt: number,
	parents: string[] = [],
	folder = 'INBOX',
): ThreadMember => ({
	folder,
	uid: storedAt,
	messageId,
	inReplyTo: parents[parents.length - 1] ?? null,
	references: parents,
	storedAt,
	sentAt: storedAt,
});

describe('orderThread', () => {
	const ids = (members: ThreadMember[]) => members.map((m) => m.messageId);

	it('a reply stored after the answer to it still comes before that answer', () => {
		const a = member('<a>', 1);
		const b = member('<b>', 2, ['<a>', '<r>']);
		const r = member('<r>', 3, ['<a>'], 'Sent');
		expect(ids(orderThread([b, r, a], ['INBOX', 'Sent']))).toEqual(['<a>', '<r>', '<b>']);
	});

	it('messages not linked to each other keep the order they were stored in', () => {
		const a = member('<a>', 1);
		const x = member('<x>', 4, ['<a>']);
		const y = member('<y>', 2, ['<a>']);
		expect(ids(orderThread([x, a, y], ['INBOX']))).toEqual(['<a>', '<y>', '<x>']);
	});

	it('a chain that loops is cut, every member kept once', () => {
		const p = member('<p>', 1, ['<q>']);
		const q = member('<q>', 2, ['<p>']);
		expect(ids(orderThread([q, p], ['INBOX']))).toEqual(['<p>', '<q>']);
	});
});
