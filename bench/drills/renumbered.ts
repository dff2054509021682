/**
 * UIDVALIDITY reset: a folder deleted and recreated (as a server migration or a restore from a
 * backup does), so its UIDs start again from 1 under a new UIDVALIDITY. Some old mail is
 * restored into it, with its flags, and new mail arrives. As in the integration test, this
 * happens while the workflows are off; they are then switched on again with their state.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { benchMessage, type BenchMessage } from '../lab/mail';
import type { Side } from '../lab/workflows';
import {
	joined,
	rig,
	SIDES,
	SIDE_INBOX,
	subjects,
	unrig,
	waitAndTally,
	faultBegins,
	rowOf,
	type Drill,
	type DrillOutcome,
} from './drill';
import { verdict } from './prose';
import { asOwner } from './mailbox';

/** The folder the drill renumbers, in both inboxes. */
const FOLDER = 'Renumbered';
/** Messages handled before the reset (so the old highest UID is 10). */
const BEFORE = 10;
/** Old messages restored into the new folder (with \Seen, as a restore keeps flags). */
const RESTORED = 2;
/** New messages after the reset: UIDs 3-5, under the old highest UID. */
const NEW = 3;
/** n8n 2.40 applies a deactivation in the background; this covers it on a busy machine. */
const DEACTIVATION_MS = 3_000;
/** Each side gets this to put out the mail before the reset, and the new mail after it. */
const BOUND_MS = 120_000;

async function appendAll(address: string, messages: BenchMessage[], seen = false): Promise<void> {
	await asOwner(address, async (client) => {
		for (const message of messages) {
			await client.append(FOLDER, message.raw, seen ? ['\\Seen'] : []);
		}
	});
}

export const renumbered: Drill = {
	id: 'uidvalidity',
	title: 'UIDVALIDITY reset',
	what: `Each side watches a folder "${FOLDER}" of its inbox. ${BEFORE} messages arrive and are put out; the workflows are switched off; the folder is deleted and recreated (new UIDVALIDITY, UIDs from 1 again), ${RESTORED} of the old messages are restored into it with their \\Seen flag, then ${NEW} new messages arrive; the workflows are switched on again (with their static data, as after any off/on). A replay of an old message counts as a duplicate, a new message never put out as lost. Time to recover: from the switch-on to the run with the last new message.`,
	explain(rows) {
		const builtin = rowOf(rows, 'builtin');
		return verdict('uidvalidity', {
			before: BEFORE,
			firstNew: RESTORED + 1,
			lastNew: RESTORED + NEW,
			outcome: builtin?.lost
				? `they were skipped as already handled, as every new message with a UID up to ${BEFORE} would be`
				: 'they should have been skipped, yet were not',
		});
	},
	async run(context): Promise<DrillOutcome> {
		const { lab } = context;
		for (const side of SIDES) {
			await asOwner(SIDE_INBOX[side], async (client) => {
				await client.mailboxCreate(FOLDER).catch(() => undefined);
			});
		}
		const rigs = await rig(context, this.title, {
			ours: { folder: FOLDER },
			builtin: { mailbox: FOLDER },
		});
		try {
			const before = {} as Record<Side, BenchMessage[]>;
			for (const side of SIDES) {
				before[side] = subjects(this.id, side, 'before', BEFORE).map((s) => benchMessage(s));
				await appendAll(SIDE_INBOX[side], before[side]);
			}
			const beforeKeys = {
				ours: before.ours.map((m) => m.subject),
				builtin: before.builtin.map((m) => m.subject),
			};
			for (const side of SIDES) await rigs[side].watch.waitFor(beforeKeys[side], BOUND_MS);
			const logs = faultBegins(lab, rigs);
			for (const side of SIDES) await lab.client.deactivateWorkflow(rigs[side].id);
			const fresh = {} as Record<Side, string[]>;
			for (const side of SIDES) {
				await asOwner(SIDE_INBOX[side], async (client) => {
					await client.mailboxDelete(FOLDER);
					await client.mailboxCreate(FOLDER);
				});
				await appendAll(SIDE_INBOX[side], before[side].slice(0, RESTORED), true);
				fresh[side] = subjects(this.id, side, 'new', NEW);
				await appendAll(
					SIDE_INBOX[side],
					fresh[side].map((s) => benchMessage(s)),
				);
			}
			for (const side of SIDES) await lab.client.activateWorkflow(rigs[side].id);
			const onAt = Date.now();
			return await waitAndTally(this.title, rigs, logs, {
				keys: joined(beforeKeys, fresh),
				held: fresh,
				faultEndedAt: onAt,
				boundMs: BOUND_MS,
			});
		} finally {
			await unrig(context, rigs);
			// n8n 2.40 stops a deactivated trigger in the background: let it go before the folder.
			await sleep(DEACTIVATION_MS);
			for (const side of SIDES) {
				await asOwner(SIDE_INBOX[side], async (client) => {
					await client.mailboxDelete(FOLDER).catch(() => undefined);
				});
			}
		}
	},
};
