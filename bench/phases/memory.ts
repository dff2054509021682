/**
 * Memory: n8n's resident memory (the whole process, as the operating system sees it) from just
 * before a message with a 10 MB attachment is delivered until its run has ended. Every round
 * is one message in a freshly started n8n, the two sides taking turns, so that no round starts
 * from what an earlier one left behind.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { benchMessage, Deliverer } from '../lab/mail';
import { rssBytes, sampleRss } from '../lab/proc';
import { waitForMessages } from '../lab/runs';
import { nodeItems, TRIGGER, type Side } from '../lab/workflows';
import {
	activate,
	deactivate,
	round,
	SIDE_INBOX,
	sideTriggerWorkflow,
	type BenchContext,
} from './common';

/** The attachment of the measured message. */
const ATTACHMENT_BYTES = 10 * 1024 * 1024;
/**
 * Before a round, n8n idles until its RSS has not fallen for this long. A freshly started n8n
 * holds about 750 MB of RSS that V8 gives back only after some idle seconds (its memory
 * reducer); a round measured before that fits the message into memory already held and shows
 * almost no growth (0.3 MB for n8n's trigger in one run).
 */
const SETTLE_QUIET_MS = 15_000;
/** The longest a round waits for n8n's RSS to settle. */
const SETTLE_MAX_MS = 90_000;
/** How often the RSS is read while settling. */
const SETTLE_SAMPLE_MS = 1_000;
/** A fall smaller than this does not count as still falling. */
const SETTLE_TOLERANCE_BYTES = 2 * 1024 * 1024;
/** After the run ended: after-run actions and freeing. */
const AFTER_MS = 2_000;
const MB = 1024 * 1024;

export interface MemorySide {
	side: Side;
	/** Peak RSS growth per round, MB. */
	growthMb: number[];
	/** Whether every round's run succeeded (with the attachment as binary data). */
	ok: boolean;
}

/** Waits until the RSS of `pid` has not fallen for SETTLE_QUIET_MS (or SETTLE_MAX_MS passed). */
export async function settledRss(pid: number): Promise<number> {
	const started = Date.now();
	let lowest = rssBytes(pid);
	let lowestSince = started;
	while (Date.now() - lowestSince < SETTLE_QUIET_MS && Date.now() - started < SETTLE_MAX_MS) {
		await sleep(SETTLE_SAMPLE_MS);
		const now = rssBytes(pid);
		if (now < lowest - SETTLE_TOLERANCE_BYTES) lowestSince = Date.now();
		lowest = Math.min(lowest, now);
	}
	return rssBytes(pid);
}

/** One round: a fresh n8n, one side's trigger, one message; the peak growth in MB. */
async function memoryRound(
	context: BenchContext,
	side: Side,
	count: number,
): Promise<{ growthMb: number; ok: boolean }> {
	const { lab, log } = context;
	// A fresh n8n: after the bursts its heap is gigabytes and a 10 MB message would hide in
	// it; after an earlier round it would start from what that round left.
	await lab.restartN8n();
	const id = await activate(context, side, sideTriggerWorkflow(lab, side, `Memory ${count}`));
	const deliverer = new Deliverer(lab.info);
	try {
		const message = benchMessage(`memory ${side} ${count}`, { attachmentBytes: ATTACHMENT_BYTES });
		const before = await settledRss(lab.n8n.pid);
		const sampler = sampleRss(lab.n8n.pid);
		await deliverer.deliver(SIDE_INBOX[side], message);
		const { executions, missing } = await waitForMessages(lab, id, [message.subject], {
			quietMs: AFTER_MS,
			timeoutMs: 120_000,
		});
		const { peak } = sampler.stop();
		log(
			`memory ${side} round ${count}: RSS ${(before / MB).toFixed(0)} MB → peak ${(peak / MB).toFixed(0)} MB`,
		);
		const ok =
			missing.length === 0 &&
			executions.length === 1 &&
			executions[0].status === 'success' &&
			nodeItems(executions[0], TRIGGER).length === 1;
		return { growthMb: (peak - before) / MB, ok };
	} finally {
		deliverer.close();
		await deactivate(context, id);
	}
}

/** `rounds` rounds per side, ours and n8n's taking turns, each in a fresh n8n. */
export async function memory(context: BenchContext, rounds: number): Promise<MemorySide[]> {
	const results: Record<Side, MemorySide> = {
		ours: { side: 'ours', growthMb: [], ok: true },
		builtin: { side: 'builtin', growthMb: [], ok: true },
	};
	for (let count = 1; count <= rounds; count++) {
		for (const side of ['ours', 'builtin'] as const) {
			const { growthMb, ok } = await memoryRound(context, side, count);
			results[side].growthMb.push(round(growthMb, 1));
			results[side].ok &&= ok;
		}
	}
	return [results.ours, results.builtin];
}
