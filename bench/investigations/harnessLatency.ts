/**
 * Finished investigation: without n8n the trigger emits p50 5 ms, max 27 ms after the IDLE floor hears of a message; BENCHMARKS.md reports it in "What the unmet targets are made of".
 *
 * The AgentMail Trigger's own part of the latency, without n8n: the built trigger runs in the
 * test harness (which stands in for n8n and answers each emit at once) against a sandbox of its
 * own, beside a bare imapflow client idling on the same folder (the floor). Single 2 KB
 * messages, 1.2–1.5 s apart, each marked read after its run; for each one, the time from when
 * the floor heard of it to the trigger's emit. Set against the bench's latency table (run
 * start in n8n minus the floor) it tells the trigger's share from n8n's.
 *
 * Run: npm run build && npx tsx bench/investigations/harnessLatency.ts [--messages 200]
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';

import { activateTrigger } from '../../tools/triggerHarness';
import { sandboxCredential } from '../../tools/sandbox/info';
import { startTemporarySandbox } from '../../tools/sandbox/sandbox';
import { IdleFloor } from '../lab/floor';
import { benchMessage, Deliverer } from '../lab/mail';
import { percentile } from '../lab/proc';
import { argument, loadBuiltTrigger, runScript } from '../lab/script';

/** Between two messages, as in the bench's latency phase. */
const SPACING_MS = 1_200;
const SPACING_JITTER_MS = 300;
/** After the last delivery, time for its emit. */
const SETTLE_MS = 1_500;

async function main(): Promise<void> {
	const messages = Number(argument('messages') ?? 200);
	const inbox = 'agent@agentmail.test';
	const sandbox = await startTemporarySandbox('agentmail-harness-latency-');
	try {
		const emittedAt: number[] = [];
		const busyAfterEmit: number[] = [];
		const trigger = await activateTrigger({
			node: await loadBuiltTrigger(),
			credentials: sandboxCredential(sandbox.info, inbox),
			onEmit: () => {
				emittedAt.push(Date.now());
				// How long the trigger keeps the thread after its emit: n8n's next step (a database
				// call's callback) waits for it as this immediate does.
				const at = performance.now();
				setImmediate(() => busyAfterEmit.push(performance.now() - at));
			},
		});
		const floor = await IdleFloor.start(sandbox.info, inbox);
		const deliverer = new Deliverer(sandbox.info);
		const deliveredAt: number[] = [];
		try {
			for (let i = 0; i < messages; i++) {
				deliveredAt.push(await deliverer.deliver(inbox, benchMessage(`harness latency ${i}`)));
				await sleep(SPACING_MS + Math.random() * SPACING_JITTER_MS);
			}
			await sleep(SETTLE_MS);
		} finally {
			deliverer.close();
			await floor.stop();
			await trigger.close();
		}
		const overFloor = deliveredAt.flatMap((at, i) => {
			const heard = floor.heardAfter(at);
			return heard === undefined || emittedAt[i] === undefined ? [] : [emittedAt[i] - heard];
		});
		const rest = overFloor.slice(1);
		process.stdout.write(
			[
				`${emittedAt.length} of ${messages} emitted; floor heard → trigger emitted, ms:`,
				`first message after activation: ${overFloor[0]}`,
				`the other ${rest.length}: p50 ${percentile(rest, 50)}, p95 ${percentile(rest, 95)}, max ${Math.max(...rest)}`,
				`emit → the thread is free again (a setImmediate runs), ms: p50 ${percentile(busyAfterEmit, 50).toFixed(1)}, p95 ${percentile(busyAfterEmit, 95).toFixed(1)}, max ${Math.max(...busyAfterEmit).toFixed(1)}`,
			].join('\n') + '\n',
		);
	} finally {
		await sandbox.stop();
	}
}

runScript('harness latency', main);
