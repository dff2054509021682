import { chunkPlan } from '../../nodes/shared/fetchPlan';

type Fetch = 'none' | 'source' | 'headers';
const entry = (uid: number, size: number, fetch: Fetch = 'source') => ({ uid, size, fetch });
const uids = (chunks: ReturnType<typeof chunkPlan>) =>
	chunks.map((chunk) => chunk.map((e) => e.uid));

describe('chunkPlan: what one FETCH holds', () => {
	it('cuts at the message count', () => {
		const entries = [1, 2, 3, 4, 5].map((uid) => entry(uid, 10));
		expect(uids(chunkPlan(entries, { messages: 2, bytes: 1_000 }))).toEqual([[1, 2], [3, 4], [5]]);
	});

	it('cuts at the byte budget, and a message over it gets a chunk of its own', () => {
		const entries = [entry(1, 400), entry(2, 400), entry(3, 5_000), entry(4, 100)];
		expect(uids(chunkPlan(entries, { messages: 50, bytes: 1_000 }))).toEqual([[1, 2], [3], [4]]);
	});

	it('lets old messages ride along without counting, and headers-only ones count no bytes', () => {
		const entries = [
			entry(1, 900, 'none'),
			entry(2, 600),
			entry(3, 9_000, 'headers'),
			entry(4, 300),
			entry(5, 700, 'none'),
			entry(6, 300),
		];
		expect(uids(chunkPlan(entries, { messages: 3, bytes: 1_000 }))).toEqual([[1, 2, 3, 4, 5], [6]]);
	});

	it('keeps UID order and loses nothing', () => {
		const entries = Array.from({ length: 100 }, (_, i) =>
			entry(i + 1, (i * 37) % 500, i % 7 === 0 ? 'none' : 'source'),
		);
		const chunks = chunkPlan(entries, { messages: 8, bytes: 1_500 });
		expect(chunks.flat().map((e) => e.uid)).toEqual(entries.map((e) => e.uid));
		for (const chunk of chunks) {
			expect(chunk.filter((e) => e.fetch !== 'none').length).toBeLessThanOrEqual(8);
		}
	});

	it('gives no chunk for nothing', () => {
		expect(chunkPlan([], { messages: 5, bytes: 100 })).toEqual([]);
	});
});
