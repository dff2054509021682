/**
 * An outage longer than our trigger's report threshold: Dovecot is SIGKILLed and stays down for
 * a minute, mail is put into the maildirs meanwhile, and it comes back. Ours has "Report Outage
 * After" at a quarter of a minute, so the user must hear of it once (a failed execution, a warn
 * line) and then read one line saying how much mail was caught up; n8n's has no such option.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { benchMessage } from '../lab/mail';
import type { Side } from '../lab/workflows';
import {
	joined,
	rowOf,
	seconds,
	SIDE_INBOX,
	SIDES,
	subjects,
	waitAndTally,
	type Drill,
	type DrillOutcome,
	type Rigs,
} from './drill';
import { prose, verdict } from './prose';
import { staged } from './stage';
import type { LogWindow } from './logs';

/** Our trigger's "Report Outage After (Minutes)" in this drill: 15 s. */
const REPORT_AFTER_MINUTES = 0.25;
/** How long Dovecot stays down: four times the threshold, and past n8n's ~31 s of retries. */
const OUTAGE_MS = 60_000;
/** Messages per side put into the maildir while the server is down. */
const WAITING_MESSAGES = 3;
/** After the server is back, how long each side gets. */
const BOUND_MS = 120_000;

/** Our lines about the outage: the report when it passed the threshold, the return. */
const REPORT_LINE = /has not reached IMAP/;
const BACK_LINE = /is back after an outage of .*; (\d+) messages? that arrived meanwhile caught up/;

/** What each side showed of the outage itself: failed runs in it, the log's report and return. */
function outageNotes(rigs: Rigs, logs: LogWindow, downAt: number, backAt: number): string[] {
	const notes: string[] = [];
	for (const side of SIDES) {
		const watch = rigs[side].watch;
		const failed = [...watch.runs.values()].filter(
			(run) => run.status === 'error' && run.startedAt >= downAt && run.startedAt <= backAt,
		);
		const lines = logs.about(side);
		const report = lines.find((line) => REPORT_LINE.test(line));
		const back = lines.map((line) => BACK_LINE.exec(line)).find(Boolean);
		const reportAt = failed[0] ? `, ${seconds(failed[0].startedAt - downAt)} after the kill` : '';
		notes.push(
			`- ${side}: ${failed.length} failed execution${failed.length === 1 ? '' : 's'} (status error, public API) during the outage${reportAt}` +
				(failed[0]?.error ? `: “${failed[0].error}”` : '') +
				`; workflow active at the end: ${watch.states.at(-1)?.active ?? 'not read'}` +
				`; warn line at the threshold: ${report ? 'yes' : 'no'}` +
				`; line at the return: ${back ? `yes, ${back[1]} caught up` : 'no'}.`,
		);
	}
	return notes;
}

export const outageVisible: Drill = {
	id: 'outage-visible',
	title: 'Outage past the report threshold',
	what: `Our trigger with "Report Outage After" at ${REPORT_AFTER_MINUTES} min (${REPORT_AFTER_MINUTES * 60} s); n8n's as it is. Dovecot is SIGKILLed and stays down ${OUTAGE_MS / 1000} s; ${WAITING_MESSAGES} messages per side are put into the maildirs meanwhile; then it is started again. Counted: the failed executions each side recorded during the outage (public API, status error), whether the workflow stayed active, the log's lines, and the mail after the return. Time to recover: from Dovecot back to the run with the last waiting message.`,
	explain(rows) {
		const builtin = rowOf(rows, 'builtin');
		return verdict('outage-visible', {
			thresholdS: REPORT_AFTER_MINUTES * 60,
			outcome: builtin?.lost
				? prose('outage-visible.lost', { lost: builtin.lost })
				: 'One of those retries came after the server was back here, and the mail came.',
		});
	},
	async run(context): Promise<DrillOutcome> {
		const { lab } = context;
		return await staged(
			context,
			this,
			{
				ours: { options: { outageMinutes: REPORT_AFTER_MINUTES } },
			},
			async ({ rigs, warm, logs }) => {
				await lab.sandbox.killImap();
				const downAt = Date.now();
				const waiting = {} as Record<Side, string[]>;
				for (const side of SIDES) {
					waiting[side] = subjects(this.id, side, 'while down', WAITING_MESSAGES);
					for (const subject of waiting[side]) {
						await lab.sandbox.depositInMaildir(SIDE_INBOX[side], benchMessage(subject).raw);
					}
				}
				// Watched through the outage, so the failed runs and the toggle are sampled in it.
				await Promise.all(
					SIDES.map(async (side) => await rigs[side].watch.observe(OUTAGE_MS - 2_000)),
				);
				await sleep(Math.max(0, downAt + OUTAGE_MS - Date.now()));
				await lab.sandbox.startImap();
				const backAt = Date.now();
				context.log(`${this.id}: Dovecot back after ${seconds(backAt - downAt)}`);
				const outcome = await waitAndTally(this.title, rigs, logs, {
					keys: joined(warm, waiting),
					held: waiting,
					faultEndedAt: backAt,
					boundMs: BOUND_MS,
					nudge: true,
				});
				outcome.notes.unshift(...outageNotes(rigs, logs, downAt, backAt));
				return outcome;
			},
		);
	},
};
