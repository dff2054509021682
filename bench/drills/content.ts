/**
 * Hard mail rather than hard networks: the php-mime-mail-parser corpus (46 real-world and
 * broken messages), and a message over our trigger's size cap followed by a normal one.
 */
import { CORPUS_DIR, corpusFiles } from '../../tools/corpus';
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { deliver } from '../../tools/sandbox/deliver';
import { BENCH_SENDER, benchMessage, Deliverer } from '../lab/mail';
import { rssBytes, sampleRss } from '../lab/proc';
import { listExecutions } from '../lab/runs';
import { itemSubject, nodeItems, TRIGGER, type Side } from '../lab/workflows';
import {
	rig,
	seconds,
	SIDES,
	SIDE_INBOX,
	subjects,
	unrig,
	waitAndTally,
	faultBegins,
	rowOf,
	type Drill,
	type DrillContext,
	type DrillOutcome,
} from './drill';
import { verdict } from './prose';
import { DRILL_ID_HEADER } from './mailbox';
import type { KeyOf } from './watch';

/** An mbox separator line, which messages cut out of an mbox start with (not a header). */
const MBOX_FROM_LINE = /^From [^\r\n]*\r?\n/;
/** All 46 messages reach both sides well within this on an idle machine. */
const CORPUS_BOUND_MS = 120_000;
/** Our trigger's default Max Message Size (MB). */
const OUR_DEFAULT_MAX_MB = 40;
/** Size of the attachment that makes the message about 45 MB once base64-encoded. */
const OVERSIZED_ATTACHMENT_BYTES = 33 * 1024 * 1024;
/** A 45 MB message through each side, on a 2-core machine. */
const OVERSIZED_BOUND_MS = 180_000;

/** A corpus message tagged with a drill id on top (its subject need not be unique). */
function tagged(file: string, id: string): Buffer {
	let raw = readFileSync(path.join(CORPUS_DIR, file));
	const mbox = MBOX_FROM_LINE.exec(raw.subarray(0, 1000).toString('latin1'));
	if (mbox) raw = raw.subarray(mbox[0].length);
	return Buffer.concat([Buffer.from(`${DRILL_ID_HEADER}: ${id}\r\n`), raw]);
}

/** The drill id of an item: our headers (lower-case names), n8n's `metadata`. */
export const byDrillId: KeyOf = (item) => {
	const name = DRILL_ID_HEADER.toLowerCase();
	const json = item.json as {
		headers?: Record<string, unknown>;
		metadata?: Record<string, unknown>;
	};
	const value = json.headers?.[name] ?? json.metadata?.[name];
	// Not a corpus message (the nudge): its subject.
	return value === undefined ? itemSubject(item) : String(Array.isArray(value) ? value[0] : value);
};

export const corpus: Drill = {
	id: 'corpus',
	title: 'php-mime-mail-parser corpus',
	what: `The ${corpusFiles().length} messages of test/fixtures/php-mime-mail-parser (real-world and broken MIME) are delivered to each side over LMTP, a leading mbox "From " line removed and an \`${DRILL_ID_HEADER}\` header put on top to tell them apart. Time column: from the first delivery to the run with the last message. Our trigger runs with *Ignore Automatic Mail* off here (some corpus messages are bulk mail, which it skips by default on purpose; n8n's has no such filter).`,
	explain(rows) {
		const ours = rowOf(rows, 'ours');
		const builtin = rowOf(rows, 'builtin');
		return verdict('corpus', {
			delivered: String(ours?.delivered),
			runs: String(ours?.runs),
			lost: String(ours?.lost),
			outcome: builtin?.lost
				? `${builtin.lost} of ${builtin.delivered} messages never produced a run (named below; what a new message did after that: see the nudge below).`
				: 'every message produced an item.',
		});
	},
	async run(context): Promise<DrillOutcome> {
		const { lab } = context;
		const rigs = await rig(context, this.title, {
			ours: { filters: { ignoreAutomatic: false } },
			keyOf: byDrillId,
		});
		let crashed: string | undefined;
		void lab.n8n.exited.then((how) => (crashed = how));
		try {
			const logs = faultBegins(lab, rigs);
			const files = corpusFiles();
			const keys = {} as Record<Side, string[]>;
			const startedAt = Date.now();
			for (const side of SIDES) {
				keys[side] = files.map((file) => `${side}:${file}`);
				for (const file of files) {
					await deliver(lab.info, SIDE_INBOX[side], tagged(file, `${side}:${file}`), {
						from: BENCH_SENDER,
					});
				}
			}
			const outcome = await waitAndTally(this.title, rigs, logs, {
				keys,
				held: keys,
				faultEndedAt: startedAt,
				boundMs: CORPUS_BOUND_MS,
				nudge: true,
			});
			outcome.notes.unshift(
				`- ${files.length} messages per side; n8n ${crashed ? `ended (${crashed})` : 'kept running'}.`,
			);
			return outcome;
		} finally {
			await unrig(context, rigs);
		}
	},
};

/** What the run of the big message carried: our warning, or n8n's attachment. */
async function describeBigItem(
	context: DrillContext,
	workflowId: string,
	side: Side,
	subject: string,
): Promise<string> {
	const executions = await listExecutions(context.lab, workflowId, true);
	const item = executions
		.flatMap((execution) => nodeItems(execution, TRIGGER))
		.find((candidate) => itemSubject(candidate) === subject);
	if (!item) return `- ${side}: no run carried the big message.`;
	const json = item.json as { warnings?: string[]; text?: string; textPlain?: string };
	const binary = Object.entries((item.binary ?? {}) as Record<string, { fileSize?: string }>)
		.map(([name, data]) => `${name} (${data.fileSize ?? '?'})`)
		.join(', ');
	return `- ${side}: the big message's item has ${binary ? `binary ${binary}` : 'no binary data'}; text ${(json.text ?? json.textPlain ?? '').length} characters${json.warnings?.length ? `; warning: “${json.warnings.join('; ')}”` : ''}.`;
}

export const oversized: Drill = {
	id: 'oversized',
	title: 'Oversized message (45 MB)',
	what: `One message of about 45 MB (a 33 MB attachment, base64) — over our trigger's default Max Message Size of ${OUR_DEFAULT_MAX_MB} MB — then a normal one, delivered over LMTP to one side at a time (the other idles), while n8n's memory (RSS) is sampled. Time column: from the end of the big delivery to the run with the normal message after it.`,
	explain(rows) {
		const builtin = rowOf(rows, 'builtin');
		return verdict('oversized', {
			capMb: OUR_DEFAULT_MAX_MB,
			outcome: builtin?.lost ? 'and lost mail here' : 'and got through it here',
		});
	},
	async run(context): Promise<DrillOutcome> {
		const { lab } = context;
		const rigs = await rig(context, this.title);
		const notes: string[] = [];
		try {
			const logs = faultBegins(lab, rigs);
			const keys = {} as Record<Side, string[]>;
			const deliverer = new Deliverer(lab.info);
			const bigDeliveredAt = {} as Record<Side, number>;
			try {
				for (const side of SIDES) {
					const [big, after] = subjects(this.id, side, 'message', 2);
					keys[side] = [big, after];
					const message = benchMessage(big, { attachmentBytes: OVERSIZED_ATTACHMENT_BYTES });
					const idle = rssBytes(lab.n8n.pid);
					const memory = sampleRss(lab.n8n.pid);
					await deliverer.deliver(SIDE_INBOX[side], message);
					bigDeliveredAt[side] = Date.now();
					await deliverer.deliver(SIDE_INBOX[side], benchMessage(after));
					const done = await rigs[side].watch.waitFor(keys[side], OVERSIZED_BOUND_MS);
					const peak = memory.stop().peak;
					const at = rigs[side].watch.completedAt([after]);
					notes.push(
						`${await describeBigItem(context, rigs[side].id, side, big)} The big message is ${(message.raw.length / 1024 / 1024).toFixed(1)} MB; n8n's RSS ${(idle / 1024 / 1024).toFixed(0)} MB before, peak ${(peak / 1024 / 1024).toFixed(0)} MB while it was handled; ${done ? `both messages out, the normal one ${at === null ? '?' : seconds(at - bigDeliveredAt[side])} after the big delivery` : 'not both out within the bound'}.`,
					);
				}
			} finally {
				deliverer.close();
			}
			const outcome = await waitAndTally(this.title, rigs, logs, {
				keys,
				held: { ours: keys.ours.slice(1), builtin: keys.builtin.slice(1) },
				faultEndedAt: bigDeliveredAt,
				boundMs: OVERSIZED_BOUND_MS,
			});
			outcome.notes.unshift(...notes);
			return outcome;
		} finally {
			await unrig(context, rigs);
		}
	},
};
