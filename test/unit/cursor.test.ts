import {
	Cursor,
	MAX_SAVED_PLACES,
	RECENT_IDS_KEPT,
	selectPlace,
	RESET_GRACE_MS,
	type CursorState,
} from '../../nodes/shared/imap/watch/cursor';

const now = new Date('2026-11-24T10:00:00Z');
const candidate = (
	uid: number,
	extra: Partial<{ messageId: string; seen: boolean; internalDate: Date }> = {},
) => ({
	uid,
	seen: false,
	...extra,
});

describe('Cursor', () => {
	it('first activation, new mail only: everything already there is old', () => {
		const state: CursorState = {};
		const cursor = new Cursor(state, 'INBOX', 'new');
		expect(cursor.open(7n, 11, now)).toBe('first');
		expect(state).toMatchObject({ folder: 'INBOX', uidValidity: '7', lastUid: '10' });
		expect(cursor.isNew(candidate(10))).toBe(false);
		expect(cursor.isNew(candidate(11))).toBe(true);
	});

	it('first activation with unread: older messages count only while unread', () => {
		const cursor = new Cursor({}, 'INBOX', 'unread');
		cursor.open(7n, 11, now);
		expect(cursor.isNew(candidate(3, { seen: true }))).toBe(false);
		expect(cursor.isNew(candidate(4))).toBe(true);
		expect(cursor.isNew(candidate(12, { seen: true }))).toBe(true);
	});

	it('first activation with everything: all of it', () => {
		const cursor = new Cursor({}, 'INBOX', 'all');
		cursor.open(7n, 11, now);
		expect(cursor.isNew(candidate(1, { seen: true }))).toBe(true);
	});

	it('the same UIDVALIDITY keeps the watermark; advancing never goes back', () => {
		const state: CursorState = {};
		new Cursor(state, 'INBOX', 'new').open(7n, 11, now);
		const cursor = new Cursor(state, 'INBOX', 'new');
		expect(cursor.open(7n, 20, now)).toBe('same');
		cursor.advance(15, '<a@x>');
		cursor.advance(12, '<b@x>');
		expect(state.lastUid).toBe('15');
		expect(cursor.isNew(candidate(14))).toBe(false);
	});

	it('another folder than before starts afresh', () => {
		const state: CursorState = {};
		new Cursor(state, 'INBOX', 'new').open(7n, 11, now);
		expect(new Cursor(state, 'Spam', 'new').open(3n, 5, now)).toBe('first');
		expect(state).toMatchObject({ folder: 'Spam', lastUid: '4' });
	});

	it('a rewind after a failed hand-over makes the message new again, also in a renumbered folder', () => {
		const state: CursorState = {};
		new Cursor(state, 'INBOX', 'new').open(7n, 11, now);
		const cursor = new Cursor(state, 'INBOX', 'new');
		// Renumbered: only the Message-ID tells a handled message from a new one.
		expect(cursor.open(8n, 4, now)).toBe('renumbered');
		const fresh = candidate(3, { messageId: '<m@x>', internalDate: now });
		expect(cursor.isNew(fresh)).toBe(true);
		const mark = cursor.mark();
		cursor.advance(3, '<m@x>');
		expect(cursor.isNew({ ...fresh, uid: 5 })).toBe(false);
		cursor.rewind(mark);
		expect(state.lastUid).toBe('0');
		expect(state.recentIds).toEqual([]);
		expect(cursor.isNew(fresh)).toBe(true);
	});

	it('renumbered: recent Message-IDs and mail older than the last sync are not replayed', () => {
		const state: CursorState = {};
		const first = new Cursor(state, 'INBOX', 'new');
		first.open(7n, 1, now);
		first.advance(1, '<seen@x>');
		first.synced(now);
		const cursor = new Cursor(state, 'INBOX', 'new');
		expect(cursor.open(8n, 4, new Date(now.getTime() + 60_000))).toBe('renumbered');
		expect(cursor.isNew(candidate(1, { messageId: '<seen@x>', internalDate: now }))).toBe(false);
		const old = new Date(now.getTime() - RESET_GRACE_MS - 1);
		expect(cursor.isNew(candidate(2, { messageId: '<old@x>', internalDate: old }))).toBe(false);
		expect(cursor.isNew(candidate(3, { messageId: '<new@x>', internalDate: now }))).toBe(true);
		cursor.advance(3, '<new@x>');
		cursor.synced();
		expect(state.resetSince).toBeUndefined();
		expect(state.uidValidity).toBe('8');
	});

	it('keeps a bounded list of recent Message-IDs', () => {
		const state: CursorState = {};
		const cursor = new Cursor(state, 'INBOX', 'new');
		cursor.open(1n, 1, now);
		for (let uid = 1; uid <= RECENT_IDS_KEPT + 50; uid++) cursor.advance(uid, `<m${uid}@x>`);
		expect(state.recentIds).toHaveLength(RECENT_IDS_KEPT);
		expect(state.recentIds?.at(-1)).toBe(`<m${RECENT_IDS_KEPT + 50}@x>`);
	});

	describe('selectPlace', () => {
		const own = 'agent@agentmail.to';
		const team = 'team@agentmail.to';

		it('state saved before there was a choice belongs to the credential’s inbox', () => {
			const state: CursorState = { folder: 'INBOX', uidValidity: '7', lastUid: '42' };
			selectPlace(state, own, 'INBOX', own);
			expect(state).toEqual({ inbox: own, folder: 'INBOX', uidValidity: '7', lastUid: '42' });
		});

		it('another inbox starts afresh; going back resumes where it was left', () => {
			const state: CursorState = { folder: 'INBOX', uidValidity: '7', lastUid: '42' };
			selectPlace(state, team, 'INBOX', own);
			expect(state.lastUid).toBeUndefined();
			const cursor = new Cursor(state, 'INBOX', 'new');
			expect(cursor.isFresh).toBe(true);
			cursor.open(3n, 10, now);
			cursor.advance(12);
			selectPlace(state, own.toUpperCase(), 'INBOX', own);
			expect(state).toMatchObject({ folder: 'INBOX', uidValidity: '7', lastUid: '42' });
			expect(new Cursor(state, 'INBOX', 'new').open(7n, 50, now)).toBe('same');
			selectPlace(state, team, 'INBOX', own);
			expect(state).toMatchObject({ inbox: team, uidValidity: '3', lastUid: '12' });
		});

		it('another folder of the same inbox has a place of its own too', () => {
			const state: CursorState = { inbox: own, folder: 'INBOX', uidValidity: '7', lastUid: '42' };
			selectPlace(state, own, 'Spam', own);
			expect(state.folder).toBeUndefined();
			selectPlace(state, own, 'INBOX', own);
			expect(state.lastUid).toBe('42');
		});

		it(`keeps at most ${MAX_SAVED_PLACES} places besides the current one, the most recently synced`, () => {
			const state: CursorState = {};
			for (let i = 0; i <= MAX_SAVED_PLACES + 5; i++) {
				selectPlace(state, `inbox${i}@agentmail.to`, 'INBOX', own);
				new Cursor(state, 'INBOX', 'new').open(1n, 1, new Date(now.getTime() + i * 1000));
			}
			const kept = Object.keys(state.places ?? {});
			expect(kept).toHaveLength(MAX_SAVED_PLACES);
			expect(kept).not.toContain('inbox0@agentmail.to\nINBOX');
			expect(kept).toContain(`inbox${MAX_SAVED_PLACES + 4}@agentmail.to\nINBOX`);
		});
	});
});
