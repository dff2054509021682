/**
 * Faults in the trigger's own work rather than the server's: n8n's binary data store failing
 * for a while, and a message whose conversion throws. Each side's mail waits behind the fault;
 * the drill counts whether it comes, once, in the end.
 */
import { CORPUS_DIR } from '../../tools/corpus';
import { existsSync, readFileSync } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { deliver } from '../../tools/sandbox/deliver';
import { BENCH_SENDER, benchMessage, Deliverer, type BenchMessage } from '../lab/mail';
import type { Side } from '../lab/workflows';
import { byDrillId } from './content';
import {
	faultBegins,
	joined,
	observeBoth,
	rig,
	rowOf,
	SIDES,
	SIDE_INBOX,
	subjects,
	unrig,
	waitAndTally,
	warmUp,
	type Drill,
	type DrillOutcome,
} from './drill';
import { prose, verdict } from './prose';
import { staged } from './stage';
import { DRILL_ID_HEADER } from './mailbox';

/** How long the binary store fails: past our trigger's longest pause between tries. */
const STORE_DOWN_MS = 60_000;
/** After the store is back, how long each side gets to put the waiting mail out. */
const STORE_RECOVERY_BOUND_MS = 120_000;
/** Messages per side while the store is down; every other one has an attachment. */
const STORE_DOWN_MESSAGES = 6;
/** Size of the attachment those messages carry. */
const ATTACHMENT_BYTES = 20_000;

/**
 * Loaded into the drills' n8n (`--require`): our conversion throws for a message carrying
 * {@link POISON_HEADER}, as a bug would. No real message is known to make it throw (the corpus
 * drill), so the fault is put in from outside; nothing else of the package changes.
 */
export const POISON_PRELOAD = path.join(__dirname, 'poisonPreload.cjs');
/** The header that makes the preload's conversion throw. */
const POISON_HEADER = 'X-Drill-Poison';
/** The corpus message that made n8n's IMAP library throw up to n8n 2.40 (see the corpus drill). */
const BUILTIN_POISON_FILE = 'issue250';
/** Ordinary messages delivered behind the poison one. */
const BEHIND_POISON = 3;
/** Our trigger tries a conversion 3 times, 1 + 2 s apart; n8n's retries its activation. */
const POISON_BOUND_MS = 90_000;

/** `message` with a drill id (and more headers) on top. */
function withHeaders(message: BenchMessage, headers: string[]): BenchMessage {
	return {
		...message,
		raw: Buffer.concat([Buffer.from(headers.join('\r\n') + '\r\n'), message.raw]),
	};
}

/**
 * Makes n8n's filesystem binary store fail as a full disk or an unmounted volume would: its
 * folder becomes a plain file, so every write below it fails (root ignores permissions, so an
 * unwritable folder would not do). Returns the undo.
 */
async function breakStore(folder: string): Promise<() => Promise<void>> {
	const away = `${folder}.away`;
	const moved = existsSync(folder);
	if (moved) await rename(folder, away);
	await writeFile(folder, 'the binary data store is down (drill)\n');
	return async () => {
		await rm(folder, { force: true });
		if (moved) await rename(away, folder);
	};
}

export const binaryStoreDown: Drill = {
	id: 'binary-store',
	title: 'Binary data store failing',
	what: `n8n runs with filesystem binary data (as in production); its storage folder becomes a plain file for ${STORE_DOWN_MS / 1000} s, so storing any attachment fails as on a full disk. Meanwhile ${STORE_DOWN_MESSAGES} messages per side arrive, every other one with a ${ATTACHMENT_BYTES / 1000} kB attachment (both sides download attachments). Then the folder is put back. Time to recover: from the store's return to the run with the last waiting message.`,
	explain(rows) {
		const ours = rowOf(rows, 'ours');
		return verdict('binary-store', {
			outcome:
				ours?.lost === 0 && ours.duplicates === 0
					? '; once the store was back every message started its run once, in order'
					: '',
		});
	},
	async run(context): Promise<DrillOutcome> {
		const { lab } = context;
		const rigs = await rig(context, this.title);
		let restore: (() => Promise<void>) | undefined;
		try {
			const warm = await warmUp(context, rigs, this.id);
			const logs = faultBegins(lab, rigs);
			restore = await breakStore(lab.binaryStore);
			const downAt = Date.now();
			const held = {} as Record<Side, string[]>;
			const deliverer = new Deliverer(lab.info);
			try {
				for (const side of SIDES) {
					held[side] = subjects(this.id, side, 'while down', STORE_DOWN_MESSAGES);
					for (const [i, subject] of held[side].entries()) {
						const shape = i % 2 === 0 ? { attachmentBytes: ATTACHMENT_BYTES } : {};
						await deliverer.deliver(SIDE_INBOX[side], benchMessage(subject, shape));
					}
				}
			} finally {
				deliverer.close();
			}
			await observeBoth(rigs, Math.max(0, downAt + STORE_DOWN_MS - Date.now()));
			await restore();
			restore = undefined;
			const restoredAt = Date.now();
			return await waitAndTally(this.title, rigs, logs, {
				keys: joined(warm, held),
				held,
				faultEndedAt: restoredAt,
				boundMs: STORE_RECOVERY_BOUND_MS,
				nudge: true,
			});
		} finally {
			await restore?.();
			await unrig(context, rigs);
		}
	},
};

export const poisonMessage: Drill = {
	id: 'poison',
	title: 'A message whose conversion throws',
	what: `Each side gets a message its own conversion fails on, then ${BEHIND_POISON} ordinary ones. n8n's: the corpus message ${BUILTIN_POISON_FILE}, which made its IMAP library throw up to n8n 2.40 (node-imap); n8n 2.41's, on imapflow, puts it out in the corpus drill, so with n8n 2.41 it is an ordinary message first in line. Ours: no real message is known to make it throw (see the corpus drill), so the drills' n8n loads bench/drills/poisonPreload.cjs, which makes our conversion throw for a message with an \`${POISON_HEADER}\` header, as a bug would. Time column: from the poison message's delivery to the run with the last message behind it.`,
	explain(rows) {
		const ours = rowOf(rows, 'ours');
		const builtin = rowOf(rows, 'builtin');
		return verdict('poison', {
			oursOutcome: ours?.lost === 0 ? '' : ' (not here: see the notes)',
			builtinOutcome: builtin?.lost
				? prose('poison.lost', { lost: builtin.lost, delivered: builtin.delivered })
				: 'every message came.',
		});
	},
	async run(context): Promise<DrillOutcome> {
		const { lab } = context;
		return await staged(
			context,
			this,
			{ keyOf: byDrillId, warmUp: false },
			async ({ rigs, logs }) => {
				const keys = {} as Record<Side, string[]>;
				const startedAt = Date.now();
				const deliverer = new Deliverer(lab.info);
				try {
					for (const side of SIDES) {
						const poisonKey = `${side}:poison`;
						if (side === 'ours') {
							const poison = benchMessage(`drill poison ${side} poison`);
							await deliverer.deliver(
								SIDE_INBOX[side],
								withHeaders(poison, [`${DRILL_ID_HEADER}: ${poisonKey}`, `${POISON_HEADER}: 1`]),
							);
						} else {
							const raw = readFileSync(path.join(CORPUS_DIR, BUILTIN_POISON_FILE));
							await deliver(
								lab.info,
								SIDE_INBOX[side],
								Buffer.concat([Buffer.from(`${DRILL_ID_HEADER}: ${poisonKey}\r\n`), raw]),
								{ from: BENCH_SENDER },
							);
						}
						const behind = subjects(this.id, side, 'behind', BEHIND_POISON);
						for (const subject of behind) {
							await deliverer.deliver(
								SIDE_INBOX[side],
								withHeaders(benchMessage(subject), [`${DRILL_ID_HEADER}: ${subject}`]),
							);
						}
						keys[side] = [poisonKey, ...behind];
					}
				} finally {
					deliverer.close();
				}
				const outcome = await waitAndTally(this.title, rigs, logs, {
					keys,
					held: keys,
					faultEndedAt: startedAt,
					boundMs: POISON_BOUND_MS,
					nudge: true,
				});
				// The fault is put in from outside: say so when it did not take, rather than pass.
				if (!logs.about('ours').some((line) => /could not convert message/.test(line))) {
					outcome.notes.unshift(
						`- **The injected fault did not take** (no "could not convert" line from ours): this row says nothing about a conversion that throws.`,
					);
				}
				return outcome;
			},
		);
	},
};
