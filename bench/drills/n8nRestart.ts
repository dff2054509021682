/**
 * n8n restarted with mail waiting: n8n is stopped (SIGTERM, as a service manager or a deploy
 * does), mail arrives while it is down, and it is started again with the same database.
 */
import type { Side } from '../lab/workflows';
import {
	deliverEach,
	joined,
	seconds,
	waitAndTally,
	rowOf,
	type Drill,
	type DrillOutcome,
} from './drill';
import { prose, verdict } from './prose';
import { staged } from './stage';

/** Messages per side that arrive while n8n is down. */
const WAITING_MESSAGES = 5;
/** After n8n is ready again, how long each side gets to put out the waiting mail. */
const BOUND_MS = 120_000;

export const n8nRestart: Drill = {
	id: 'n8n-restart',
	title: 'n8n restarted with mail waiting',
	what: `Both workflows active; n8n is stopped with SIGTERM, ${WAITING_MESSAGES} messages per side are delivered while it is down, and n8n is started again on the same database. Time to recover: from n8n answering /healthz/readiness again to the run with the last waiting message.`,
	explain(rows) {
		const ours = rowOf(rows, 'ours');
		const builtin = rowOf(rows, 'builtin');
		const lost = builtin?.lost
			? `${builtin.lost} of its ${builtin.delivered} messages never came (named below)`
			: 'none of its messages was lost';
		return verdict('n8n-restart', {
			oursRecovery: String(ours?.recovery),
			onStart: prose('builtin-on-start'),
			outcome: builtin ? `Time to recover here: ${builtin.recovery}; ${lost}.` : '',
		});
	},
	async run(context): Promise<DrillOutcome> {
		const { lab } = context;
		return await staged(context, this, {}, async ({ rigs, warm, logs }) => {
			let waiting = {} as Record<Side, string[]>;
			const stoppingAt = Date.now();
			await lab.restartN8n(async () => {
				waiting = await deliverEach(context, this.id, 'while n8n down', WAITING_MESSAGES);
			});
			const readyAt = Date.now();
			context.log(`${this.id}: n8n down and up again in ${seconds(readyAt - stoppingAt)}`);
			const outcome = await waitAndTally(this.title, rigs, logs, {
				keys: joined(warm, waiting),
				held: waiting,
				faultEndedAt: readyAt,
				boundMs: BOUND_MS,
				nudge: true,
			});
			outcome.notes.unshift(
				`- n8n stopped and ready again after ${seconds(readyAt - stoppingAt)}.`,
			);
			return outcome;
		});
	},
};
