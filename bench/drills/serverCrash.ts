/**
 * Dovecot SIGKILLed (a server crash): once while both triggers idle, once in the middle of a
 * 200-message burst. Mail that arrives while it is down is put straight into the maildirs, as
 * a local delivery agent would; Dovecot comes back after a few seconds.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { listExecutions } from '../lab/runs';
import { benchMessage, Deliverer } from '../lab/mail';
import type { Side } from '../lab/workflows';
import {
	joined,
	rig,
	seconds,
	SIDE_INBOX,
	SIDES,
	subjects,
	unrig,
	waitAndTally,
	warmUp,
	faultBegins,
	rowOf,
	type Drill,
	type DrillContext,
} from './drill';
import { verdict } from './prose';
import { staged } from './stage';

/** How long the server stays down: a quick restart, as a crashed service comes back. */
const OUTAGE_MS = 5_000;
/** Messages per side that arrive while the server is down in the idle drill. */
const WAITING_MESSAGES = 3;
/** Messages per side in the burst. */
const BURST_MESSAGES = 200;
/** Both sides' first burst runs must begin within this, or the drill kills the server anyway. */
const BURST_START_TIMEOUT_MS = 60_000;
/** Each side gets this long after the server is back (n8n's trigger retries 6 times in ~31 s). */
const RECOVERY_BOUND_MS = 180_000;
/** Between two looks at the run count while waiting to kill. */
const KILL_POLL_MS = 200;

/** Brings Dovecot back after the outage; returns the moment it accepts connections again. */
async function restartServer(context: DrillContext, killedAt: number): Promise<number> {
	await sleep(Math.max(0, killedAt + OUTAGE_MS - Date.now()));
	await context.lab.sandbox.startImap();
	return Date.now();
}

export const killIdle: Drill = {
	id: 'kill-idle',
	title: 'Server SIGKILL while idle',
	what: `Both triggers idle; Dovecot (IMAP and LMTP) is SIGKILLed, ${WAITING_MESSAGES} messages per side are put into the maildirs while it is down, and it is started again ${OUTAGE_MS / 1000} s after the kill. Time to recover: from Dovecot accepting connections again to the run that carried the last waiting message.`,
	explain(rows) {
		const builtin = rowOf(rows, 'builtin');
		return verdict('kill-idle', {
			outageS: OUTAGE_MS / 1000,
			lostHere: builtin?.lost ? ', yet mail was lost here' : '',
		});
	},
	async run(context) {
		return await staged(context, this, {}, async ({ rigs, warm, logs }) => {
			await context.lab.sandbox.killImap();
			const killedAt = Date.now();
			const waiting = {} as Record<Side, string[]>;
			for (const side of SIDES) {
				waiting[side] = subjects(this.id, side, 'while down', WAITING_MESSAGES);
				for (const subject of waiting[side]) {
					await context.lab.sandbox.depositInMaildir(SIDE_INBOX[side], benchMessage(subject).raw);
				}
			}
			const backAt = await restartServer(context, killedAt);
			context.log(`${this.id}: Dovecot back after ${seconds(backAt - killedAt)}`);
			return await waitAndTally(this.title, rigs, logs, {
				keys: joined(warm, waiting),
				held: waiting,
				faultEndedAt: backAt,
				boundMs: RECOVERY_BOUND_MS,
				nudge: true,
			});
		});
	},
};

export const killMidBurst: Drill = {
	id: 'kill-burst',
	title: 'Server SIGKILL mid-burst',
	what: `A burst of ${BURST_MESSAGES} messages per side: the first ${BURST_MESSAGES / 2} are delivered over LMTP (both sides interleaved); as soon as both sides have started runs for them, Dovecot is SIGKILLed under the runs coming in; the other ${BURST_MESSAGES / 2} go into the maildirs while it is down; it is back ${OUTAGE_MS / 1000} s after the kill. Time to recover: from Dovecot back to the run that carried the last message of the burst.`,
	explain(rows) {
		const builtin = rowOf(rows, 'builtin');
		return verdict('kill-burst', {
			outcome: builtin?.lost
				? `mail was lost here: ${builtin.lost}`
				: 'this run did not hit that window',
		});
	},
	async run(context) {
		const { lab } = context;
		const rigs = await rig(context, this.title);
		try {
			const warm = await warmUp(context, rigs, this.id);
			// Runs before the burst (n8n 2.41's trigger may carry several warm-up messages in one).
			const runsBefore = {
				ours: (await listExecutions(lab, rigs.ours.id)).length,
				builtin: (await listExecutions(lab, rigs.builtin.id)).length,
			};
			const logs = faultBegins(lab, rigs);
			const burst = {
				ours: subjects(this.id, 'ours', 'burst', BURST_MESSAGES),
				builtin: subjects(this.id, 'builtin', 'burst', BURST_MESSAGES),
			};
			const half = BURST_MESSAGES / 2;
			const deliverer = new Deliverer(lab.info, 2);
			try {
				for (let i = 0; i < half; i++) {
					for (const side of SIDES) {
						await deliverer.deliver(SIDE_INBOX[side], benchMessage(burst[side][i]));
					}
				}
			} finally {
				deliverer.close();
			}
			// Runs are coming in on both sides: the server goes down under them.
			const deadline = Date.now() + BURST_START_TIMEOUT_MS;
			const runsNow = async () => ({
				ours: (await listExecutions(lab, rigs.ours.id)).length - runsBefore.ours,
				builtin: (await listExecutions(lab, rigs.builtin.id)).length - runsBefore.builtin,
			});
			let runsAtKill = await runsNow();
			while ((runsAtKill.ours < 1 || runsAtKill.builtin < 1) && Date.now() < deadline) {
				await sleep(KILL_POLL_MS);
				runsAtKill = await runsNow();
			}
			await lab.sandbox.killImap();
			const killedAt = Date.now();
			for (let i = half; i < BURST_MESSAGES; i++) {
				for (const side of SIDES) {
					await lab.sandbox.depositInMaildir(SIDE_INBOX[side], benchMessage(burst[side][i]).raw);
				}
			}
			const backAt = await restartServer(context, killedAt);
			const outcome = await waitAndTally(this.title, rigs, logs, {
				keys: joined(warm, burst),
				held: burst,
				faultEndedAt: backAt,
				boundMs: RECOVERY_BOUND_MS,
				nudge: true,
				countCopies: true,
			});
			outcome.notes.unshift(
				`- Killed when the first ${half} messages per side were delivered and ${runsAtKill.ours} runs had started on our side, ${runsAtKill.builtin} on n8n's; the other ${BURST_MESSAGES - half} per side went into the maildirs while Dovecot was down.`,
			);
			return outcome;
		} finally {
			await unrig(context, rigs);
		}
	},
};
