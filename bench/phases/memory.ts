/**
 * Memory: n8n's resident memory (the whole process, as the operating system sees it) from just
 * before a message with a 10 MB attachment is delivered until its run has ended, for our
 * trigger and for n8n's, one after the other, several rounds, each side in a freshly started
 * n8n.
 */
import { benchMessage, Deliverer } from '../lab/mail';
import { rssBytes, sampleRss } from '../lab/proc';
import { listExecutions, sleep, waitForQuiet } from '../lab/runs';
import type { Side } from '../lab/workflows';
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
/** Before a round: n8n idle long enough for its own timers and GC to settle. */
const SETTLE_MS = 5_000;
/** After the run ended: after-run actions and freeing. */
const AFTER_MS = 2_000;
const MB = 1024 * 1024;

export interface MemorySide {
	side: Side;
	/** Peak RSS growth per round, MB. */
	growthMb: number[];
	/** Whether every run succeeded with the attachment as binary data. */
	ok: boolean;
}

export async function memory(
	context: BenchContext,
	side: Side,
	rounds: number,
): Promise<MemorySide> {
	const { lab, log } = context;
	// A fresh n8n: after the bursts its heap is gigabytes and a 10 MB message would hide in it.
	await lab.restartN8n();
	const inbox = SIDE_INBOX[side];
	const id = await activate(context, side, sideTriggerWorkflow(lab, side, 'Memory'));
	const deliverer = new Deliverer(lab.info);
	const growth: number[] = [];
	try {
		for (let round = 1; round <= rounds; round++) {
			const message = benchMessage(`memory ${side} ${round}`, {
				attachmentBytes: ATTACHMENT_BYTES,
			});
			await sleep(SETTLE_MS);
			const before = rssBytes(lab.n8n.pid);
			const sampler = sampleRss(lab.n8n.pid);
			await deliverer.deliver(inbox, message);
			await waitForQuiet(lab, id, { atLeast: round, quietMs: AFTER_MS, timeoutMs: 120_000 });
			const { peak } = sampler.stop();
			growth.push((peak - before) / MB);
			log(
				`memory ${side} round ${round}: RSS ${(before / MB).toFixed(0)} MB → peak ${(peak / MB).toFixed(0)} MB`,
			);
		}
	} finally {
		deliverer.close();
		await deactivate(context, id);
	}
	const executions = await listExecutions(lab, id, true);
	const ok =
		executions.length === rounds && executions.every((execution) => execution.status === 'success');
	return {
		side,
		growthMb: growth.map((value) => round(value, 1)),
		ok,
	};
}
