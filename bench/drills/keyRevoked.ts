/**
 * The API key revoked while the workflows are active: both inboxes get new keys, and Dovecot is
 * restarted so that the open sessions end and the next login meets the revocation, as it would
 * with AgentMail. Mail arrives meanwhile. Then the original keys are restored (the user puts the
 * right key back, or the revocation was a mistake) and the drill watches whether n8n brings the
 * workflows back by itself and whether the waiting mail comes, once.
 */
import { randomBytes } from 'node:crypto';

import { N8N_VERSION } from '../../tools/n8n/install';
import {
	deliverEach,
	joined,
	observeBoth,
	rig,
	SIDES,
	SIDE_INBOX,
	unrig,
	waitAndTally,
	warmUp,
	faultBegins,
	rowOf,
	seconds,
	type Rig,
	type Row,
	type Drill,
	type DrillOutcome,
} from './drill';
import { prose, verdict } from './prose';

/**
 * How long the keys stay revoked: past n8n's trigger giving up (6 attempts, ~31 s of backoff
 * plus Dovecot's 2 s per refused login), so both sides have shown the user their error.
 */
const REVOKED_MS = 60_000;
/** After the keys are back, how long n8n's own activation retries get to recover each side. */
const RECOVERY_BOUND_MS = 180_000;
/** If a side did not recover, it is deactivated and activated by the drill, and gets this. */
const REACTIVATED_BOUND_MS = 60_000;
/** Messages per side delivered while the key is revoked. */
const WAITING_MESSAGES = 3;

/** When n8n showed the side's error and when it went away, and why. */
function errorTimeline(r: Rig, rescueAt: number): string {
	const states = r.watch.states;
	const first = states.findIndex((state) => state.error !== null);
	if (first < 0) return `- ${r.side}: n8n never showed an error.`;
	const shownAt = states[first].at - r.watch.zero;
	const cleared = states.slice(first).find((state) => state.error === null);
	if (!cleared) return `- ${r.side}: n8n showed the error from +${seconds(shownAt)} to the end.`;
	const how =
		cleared.at < rescueAt
			? "n8n's own activation retry succeeded"
			: 'after the drill switched the workflow off and on';
	return `- ${r.side}: n8n showed the error from +${seconds(shownAt)}; it was gone at +${seconds(cleared.at - r.watch.zero)} (${how}).`;
}

export const keyRevoked: Drill = {
	id: 'key-revoked',
	title: 'API key revoked while active',
	what: `Both inboxes get new API keys while the workflows are active; Dovecot is restarted so the open sessions end and the next login is refused (an existing IMAP session outlives a key change in Dovecot, a real revocation would not let it log in again). ${WAITING_MESSAGES} messages per side arrive; after ${REVOKED_MS / 1000} s the original keys are restored and n8n's own activation retries get ${RECOVERY_BOUND_MS / 1000} s to bring each workflow back. Time to recover: from the keys restored to the run with the last waiting message.`,
	explain(rows) {
		const ours = rowOf(rows, 'ours');
		const builtin = rowOf(rows, 'builtin');
		const reactivated = (row?: Row) => row?.recovery.includes('by itself') ?? false;
		return verdict('key-revoked', {
			oursOutcome: prose(reactivated(ours) ? 'key-revoked.rescued' : 'key-revoked.recovered'),
			n8nVersion: N8N_VERSION,
			onStart: prose('builtin-on-start'),
			builtinOutcome: builtin?.lost
				? `${builtin.lost} of the waiting messages never came (the nudge below says whether the next mail brought them).`
				: 'The waiting mail came here.',
		});
	},
	async run(context): Promise<DrillOutcome> {
		const { lab } = context;
		const rigs = await rig(context, this.title);
		const original = Object.fromEntries(
			SIDES.map((side) => [
				side,
				lab.info.inboxes.find((i) => i.address === SIDE_INBOX[side])?.apiKey,
			]),
		) as Record<(typeof SIDES)[number], string>;
		let restored = false;
		try {
			const warm = await warmUp(context, rigs, this.id);
			const logs = faultBegins(lab, rigs);
			for (const side of SIDES) {
				// Made up at run time, in the shape of a real key; never printed.
				await lab.sandbox.replaceKey(SIDE_INBOX[side], `am_${randomBytes(16).toString('hex')}`);
			}
			await lab.sandbox.killImap();
			await lab.sandbox.startImap();
			const revokedAt = Date.now();
			const waiting = await deliverEach(context, this.id, 'while revoked', WAITING_MESSAGES);
			await observeBoth(rigs, Math.max(0, revokedAt + REVOKED_MS - Date.now()));
			for (const side of SIDES) await lab.sandbox.replaceKey(SIDE_INBOX[side], original[side]);
			restored = true;
			const restoredAt = Date.now();
			const outcome = await waitAndTally(this.title, rigs, logs, {
				keys: joined(warm, waiting),
				held: waiting,
				faultEndedAt: restoredAt,
				boundMs: RECOVERY_BOUND_MS,
				nudge: true,
				// What the user would do at last: switch the workflow off and on again.
				rescue: {
					what: 'the drill deactivated and activated it',
					boundMs: REACTIVATED_BOUND_MS,
					run: async (r) => {
						await lab.client.deactivateWorkflow(r.id);
						await lab.client.activateWorkflow(r.id);
					},
				},
			});
			const rescueAt = restoredAt + RECOVERY_BOUND_MS;
			for (const side of SIDES) outcome.notes.push(errorTimeline(rigs[side], rescueAt));
			return outcome;
		} finally {
			if (!restored) {
				for (const side of SIDES) await lab.sandbox.replaceKey(SIDE_INBOX[side], original[side]);
			}
			await unrig(context, rigs);
		}
	},
};
