/** The bench's log clock: each line appended after it started, stamped once it is complete. */
import { setTimeout as sleep } from 'node:timers/promises';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { LineClock } from '../../tools/tail';

describe('LineClock', () => {
	let dir: string;
	let file: string;

	beforeEach(() => {
		dir = mkdtempSync(path.join(os.tmpdir(), 'line-clock-'));
		file = path.join(dir, 'log');
		writeFileSync(file, 'written before the clock started\n');
	});

	afterEach(() => rmSync(dir, { recursive: true, force: true }));

	it('stamps only the lines appended after it started, each once it is whole', async () => {
		const clock = new LineClock(file);
		appendFileSync(file, 'Login: user=<a@x>\nhalf a li');
		await sleep(100);
		const beforeRest = Date.now();
		appendFileSync(file, 'ne\nLogin: user=<b@x>\n');
		const lines = clock.stop();
		expect(lines.map((line) => line.text)).toEqual([
			'Login: user=<a@x>',
			'half a line',
			'Login: user=<b@x>',
		]);
		// The first line was read by a poll before the rest was written; the others after.
		expect(lines[0].at).toBeLessThan(beforeRest);
		expect(lines[1].at).toBeGreaterThanOrEqual(beforeRest);
		expect(clock.times(/^Login: /)).toEqual([lines[0].at, lines[2].at]);
		expect(clock.times(/^Login: /, beforeRest)).toEqual([lines[2].at]);
	});
});
