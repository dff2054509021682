/**
 * The outage report (nodes/shared/imap/outage.ts) on a manual clock: once per outage past the
 * threshold, never for a short one, the time online not counted, the key never shown, and one
 * line with the caught-up count when mail flows again.
 */
import {
	OutageWatch,
	formatDuration,
	type OutageClock,
} from '../../nodes/shared/imap/watch/outage';

const KEY = 'am_' + 'k'.repeat(32);
const MINUTE = 60_000;

/** A clock whose time moves only when the test says so; due timers fire as it passes them. */
class ManualClock implements OutageClock {
	private time = 0;
	private timers = new Map<number, { at: number; callback: () => void }>();
	private nextId = 1;

	now(): number {
		return this.time;
	}

	setTimeout(callback: () => void, ms: number): unknown {
		const id = this.nextId++;
		this.timers.set(id, { at: this.time + ms, callback });
		return id;
	}

	clearTimeout(handle: unknown): void {
		this.timers.delete(handle as number);
	}

	get pending(): number {
		return this.timers.size;
	}

	advance(ms: number): void {
		const end = this.time + ms;
		for (;;) {
			const due = [...this.timers.entries()]
				.filter(([, timer]) => timer.at <= end)
				.sort((a, b) => a[1].at - b[1].at)[0];
			if (!due) break;
			this.timers.delete(due[0]);
			this.time = due[1].at;
			due[1].callback();
		}
		this.time = end;
	}
}

function setup(thresholdMs = 5 * MINUTE) {
	const clock = new ManualClock();
	const lines: Array<{ level: string; message: string }> = [];
	const log = (level: string) => (message: string) => lines.push({ level, message });
	const reports: string[] = [];
	const watch = new OutageWatch({
		thresholdMs,
		where: 'imap.agentmail.to:993 (INBOX)',
		logger: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') },
		onReport: (message) => reports.push(message),
		secrets: () => [KEY],
		clock,
	});
	return { clock, lines, reports, watch };
}

it('an outage past the threshold is reported once, with one warn line, however long it lasts', () => {
	const { clock, lines, reports, watch } = setup();
	watch.offline(new Error('IMAP imap.agentmail.to:993 refused the connection.'), 10);
	clock.advance(5 * MINUTE - 1);
	expect(reports).toEqual([]);
	clock.advance(1);
	expect(reports).toHaveLength(1);
	expect(reports[0]).toBe(
		'AgentMail Trigger has not reached IMAP imap.agentmail.to:993 (INBOX) for 5 min: IMAP imap.agentmail.to:993 refused the connection. It keeps retrying (at least every 30 s) and will catch up on all mail that arrived meanwhile once the server answers again; nothing is lost.',
	);
	// Every further failed attempt, for hours: nothing more.
	for (let i = 0; i < 200; i++) {
		watch.offline(new Error('connect ETIMEDOUT'), 10);
		clock.advance(30_000);
	}
	expect(reports).toHaveLength(1);
	expect(lines.filter((l) => l.level === 'warn').map((l) => l.message)).toEqual(reports);
	expect(clock.pending).toBe(0);
});

it('an outage shorter than the threshold is not reported, and its end is one info line with the count', () => {
	const { clock, lines, reports, watch } = setup();
	watch.offline(new Error('the server closed the connection'), 10);
	clock.advance(4 * MINUTE);
	watch.online();
	clock.advance(2_000);
	watch.caughtUp(13);
	clock.advance(10 * MINUTE);
	expect(reports).toEqual([]);
	expect(lines).toEqual([
		{
			level: 'info',
			message:
				'AgentMail Trigger: IMAP imap.agentmail.to:993 (INBOX) is back after an outage of 4 min 2 s; 3 messages that arrived meanwhile caught up',
		},
	]);
	expect(watch.active).toBe(false);
	expect(clock.pending).toBe(0);
});

it('only the time without a connection counts; a connection lost before its catch-up finished continues the outage', () => {
	const { clock, lines, reports, watch } = setup();
	watch.offline(new Error('connect ECONNREFUSED'), 0);
	clock.advance(3 * MINUTE);
	watch.online();
	// Connected for ten minutes (catching up, say): not an outage of the connection.
	clock.advance(10 * MINUTE);
	expect(reports).toEqual([]);
	watch.offline(new Error('the server closed the connection'), 1);
	clock.advance(2 * MINUTE - 1);
	expect(reports).toEqual([]);
	clock.advance(1);
	expect(reports).toHaveLength(1);
	expect(reports[0]).toContain('for 5 min: the server closed the connection.');
	watch.online();
	watch.caughtUp(4);
	expect(lines.at(-1)?.message).toMatch(/is back after an outage of 15 min; 4 messages/);
});

it('a caught-up pass while disconnected, or without an outage, logs nothing', () => {
	const { lines, watch } = setup();
	watch.caughtUp(5);
	watch.offline(new Error('gone'), 5);
	watch.caughtUp(5);
	expect(lines).toEqual([]);
	expect(watch.active).toBe(true);
});

it('an outage reported another way (a refused login) is not reported again', () => {
	const { clock, reports, watch } = setup();
	watch.offline(new Error('refused the login'), 0);
	watch.reportedElsewhere();
	clock.advance(60 * MINUTE);
	watch.offline(new Error('refused the login'), 0);
	clock.advance(60 * MINUTE);
	expect(reports).toEqual([]);
	expect(clock.pending).toBe(0);
});

it('threshold 0 never reports; stop() leaves no timer behind', () => {
	const never = setup(0);
	never.watch.offline(new Error('gone'), 0);
	never.clock.advance(24 * 60 * MINUTE);
	expect(never.reports).toEqual([]);

	const stopped = setup();
	stopped.watch.offline(new Error('gone'), 0);
	expect(stopped.clock.pending).toBe(1);
	stopped.watch.stop();
	expect(stopped.clock.pending).toBe(0);
	stopped.clock.advance(60 * MINUTE);
	expect(stopped.reports).toEqual([]);
});

it('the API key never appears in the report or the log', () => {
	const { clock, lines, reports, watch } = setup(1_000);
	watch.offline(new Error(`LOGIN agent@agentmail.test ${KEY} failed`), 0);
	clock.advance(1_000);
	expect(reports).toHaveLength(1);
	expect(JSON.stringify([reports, lines])).not.toContain(KEY);
	expect(reports[0]).toContain('LOGIN agent@agentmail.test *** failed');
});

it('formats durations for people', () => {
	expect(formatDuration(3_400)).toBe('3 s');
	expect(formatDuration(5 * MINUTE)).toBe('5 min');
	expect(formatDuration(6 * MINUTE + 12_000)).toBe('6 min 12 s');
	expect(formatDuration(125 * MINUTE)).toBe('2 h 5 min');
	expect(formatDuration(120 * MINUTE)).toBe('2 h');
});
