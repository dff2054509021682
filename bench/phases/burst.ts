/**
 * Bursts. 1. The same burst (2 KB text, every other message with 50 KB of HTML, every 50th with
 * a 1 MB attachment) delivered as fast as Dovecot takes it, to our trigger and to n8n's, both
 * running 20 messages per run: all there once, when the last run starts after the last
 * delivery, and the CPU n8n's process used. 2. Our default, one run per message, catching up
 * on the same kind of burst, next to a trigger that emits empty runs (n8n's own cost per run).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { INBOX } from '../lab/lab';
import { benchMessage, Deliverer, type BenchMessage } from '../lab/mail';
import { IdleFloor } from '../lab/floor';
import { cpuWindow, percentile, sampleCpu, type CpuSample } from '../lab/proc';
import { inParallel, listExecutions, startedAt, waitForMessages, waitForQuiet } from '../lab/runs';
import {
	baselineEmits,
	baselineWorkflow,
	itemSubject,
	nodeItems,
	oursTriggerWorkflow,
	TRIGGER,
	type BaselineOptions,
	type Side,
} from '../lab/workflows';
import {
	activate,
	deactivate,
	round,
	SIDE_INBOX,
	sideTriggerWorkflow,
	type BenchContext,
} from './common';

/** LMTP connections the burst is delivered on. */
const DELIVERY_CONNECTIONS = 4;
/** How often n8n's CPU time is read during a burst. */
const CPU_SAMPLE_MS = 100;
/** After the last run, how long nothing new may start before the phase ends. */
const QUIET_MS = 5_000;
/** A whole burst, even for a slow side. */
const BURST_TIMEOUT_MS = 10 * 60_000;
/** Messages per run when both sides batch (n8n's trigger always takes up to 20). */
export const BATCH_SIZE = 20;
/**
 * Delivery paces of the paced bursts, messages per second: up to what this machine delivers
 * flat out (220–300), to find the pace each trigger keeps up with.
 */
export const BURST_PACES = [50, 100, 150, 200];

/** The burst's messages: every other with HTML, every 50th with a 1 MB attachment. */
export function burstMessages(tag: string, count: number): BenchMessage[] {
	return Array.from({ length: count }, (_, i) =>
		benchMessage(`burst ${tag} ${i}`, {
			textBytes: 2_000,
			htmlBytes: i % 2 === 1 ? 50_000 : 0,
			attachmentBytes: i % 50 === 0 ? 1_000_000 : 0,
		}),
	);
}

/** Counts what the runs carried against what was delivered. */
async function tally(context: BenchContext, id: string, subjects: string[]) {
	const executions = await listExecutions(context.lab, id, true);
	const counts = new Map<string, number>();
	let items = 0;
	for (const execution of executions) {
		for (const item of nodeItems(execution, TRIGGER)) {
			items++;
			const subject = itemSubject(item);
			counts.set(subject, (counts.get(subject) ?? 0) + 1);
		}
	}
	const missing = subjects.filter((subject) => !counts.has(subject)).length;
	const duplicates = [...counts.values()].filter((count) => count > 1).length;
	const failed = executions.filter((execution) => execution.status !== 'success').length;
	return { executions, items, missing, duplicates, failed };
}

export interface BurstSide {
	side: Side;
	/** The delivery pace, messages per second; absent: as fast as Dovecot takes them. */
	perSecond?: number;
	messages: number;
	runs: number;
	items: number;
	missing: number;
	duplicates: number;
	failedRuns: number;
	/** First to last delivery, ms. */
	deliveryMs: number;
	/** Last delivery → the floor client heard the last EXISTS, ms. */
	floorAfterLastMs: number;
	/** Last delivery → start of the last run, ms. */
	lastRunAfterLastMs: number;
	/** CPU of n8n's process from the first delivery to the end of the last run, ms. */
	cpuMs: number;
	/** Of that, n8n's main thread (the one JavaScript thread the triggers and runs share), ms. */
	mainThreadCpuMs?: number;
	/** First delivery → end of the last run, ms: the window the CPU figures cover. */
	windowMs?: number;
	/** How busy the whole machine (all cores) was in that window, percent. */
	machineBusyPercent?: number;
	/** Cumulative items by run start, for the plot: [ms after first delivery, items]. */
	timeline: Array<[number, number]>;
}

/**
 * One side's batched burst. With `perSecond`, message k is handed to the deliverer at
 * k / perSecond s instead of as fast as Dovecot takes them.
 */
export async function batchedBurst(
	context: BenchContext,
	side: Side,
	count: number,
	perSecond?: number,
): Promise<BurstSide> {
	const { lab, log } = context;
	const inbox = SIDE_INBOX[side];
	const pace = perSecond ? `, ${perSecond} messages/s` : '';
	const workflow = sideTriggerWorkflow(lab, side, `Burst, 20 per run${pace}`, {
		runMode: 'batch',
		batchSize: BATCH_SIZE,
	});
	const messages = burstMessages(side, count);
	const id = await activate(context, side, workflow);
	const floor = await IdleFloor.start(lab.info, inbox);
	const deliverer = new Deliverer(lab.info, DELIVERY_CONNECTIONS);
	const sampler = sampleCpu(lab.n8n.pid, CPU_SAMPLE_MS);
	const cpu = sampler.samples;
	let first = 0;
	let last = 0;
	try {
		first = Date.now();
		await inParallel(messages, DELIVERY_CONNECTIONS, async (message, index) => {
			if (perSecond) await sleep(Math.max(0, first + (index * 1000) / perSecond - Date.now()));
			last = Math.max(last, await deliverer.deliver(inbox, message));
		});
		log(`burst ${side}${pace}: ${count} delivered in ${last - first} ms`);
		// Every message carried, not some runs quiet for a while: n8n 2.41's trigger can leave
		// mail that came in after its last fetch for 15 s (see BENCHMARKS.md).
		await waitForMessages(
			lab,
			id,
			messages.map((message) => message.subject),
			{ quietMs: QUIET_MS, timeoutMs: BURST_TIMEOUT_MS },
		);
	} finally {
		sampler.stop();
		deliverer.close();
		await floor.stop();
		await deactivate(context, id);
	}
	const counted = await tally(
		context,
		id,
		messages.map((message) => message.subject),
	);
	const ends = counted.executions.map((execution) => Date.parse(execution.stoppedAt ?? ''));
	const lastEnd = Math.max(...ends);
	const lastStart = Math.max(...counted.executions.map(startedAt));
	const used = cpuWindow(cpu, lastEnd);
	const timeline: Array<[number, number]> = [];
	let cumulative = 0;
	for (const execution of [...counted.executions].sort((a, b) => startedAt(a) - startedAt(b))) {
		cumulative += nodeItems(execution, TRIGGER).length;
		timeline.push([startedAt(execution) - first, cumulative]);
	}
	const result: BurstSide = {
		side,
		...(perSecond ? { perSecond } : {}),
		messages: count,
		runs: counted.executions.length,
		items: counted.items,
		missing: counted.missing,
		duplicates: counted.duplicates,
		failedRuns: counted.failed,
		deliveryMs: last - first,
		floorAfterLastMs: (floor.last() ?? NaN) - last,
		lastRunAfterLastMs: lastStart - last,
		cpuMs: round(used.processMs),
		mainThreadCpuMs: round(used.mainThreadMs),
		windowMs: used.windowMs,
		machineBusyPercent: round(used.machineBusyPercent),
		timeline,
	};
	log(
		`burst ${side}${pace}: ${result.runs} runs, ${result.items} items, missing ${result.missing}, duplicates ${result.duplicates}; last run ${result.lastRunAfterLastMs} ms after the last delivery (floor ${result.floorAfterLastMs} ms); CPU ${result.cpuMs} ms, main thread ${result.mainThreadCpuMs} ms in ${result.windowMs} ms; machine ${result.machineBusyPercent}% busy`,
	);
	return result;
}

export interface RateResult {
	what: 'ours' | 'baseline';
	runs: number;
	items: number;
	missing: number;
	duplicates: number;
	/** First to last run start, ms. */
	spanMs: number;
	/** First run start to last run end, ms. */
	wallMs: number;
	/** Runs started per second. */
	rate: number;
	/** Runs per second from the first start to the last end. */
	completedRate: number;
	/** CPU of n8n's process from the first run start to the last run end, ms. */
	cpuMs: number;
	/** Of that, n8n's main thread, ms. */
	mainThreadCpuMs?: number;
}

/** Runs per second over a set of executions, with the CPU n8n used between their first start and last end. */
function rateOf(
	executions: Array<{ startedAt: string; stoppedAt: string | null }>,
	cpu: CpuSample[],
) {
	const starts = executions.map((execution) => Date.parse(execution.startedAt));
	const ends = executions.map((execution) => Date.parse(execution.stoppedAt ?? ''));
	const spanMs = Math.max(...starts) - Math.min(...starts);
	const used = cpuWindow(cpu, Math.max(...ends), Math.min(...starts));
	return {
		spanMs,
		/** First run start to last run end. */
		wallMs: Math.max(...ends) - Math.min(...starts),
		rate: round((executions.length - 1) / (spanMs / 1000), 1),
		completedRate: round(executions.length / ((Math.max(...ends) - Math.min(...starts)) / 1000), 1),
		cpuMs: round(used.processMs),
		mainThreadCpuMs: round(used.mainThreadMs),
	};
}

/**
 * One run per message: `count` messages are delivered while the workflow is off, then it is
 * activated with "new and unread mail" and catches up; beside it, the empty-run trigger.
 */
export async function perMessageRate(context: BenchContext, count: number): Promise<RateResult[]> {
	const { lab, log } = context;
	const inbox = INBOX.agent;
	const messages = burstMessages('per-message', count);
	const deliverer = new Deliverer(lab.info, DELIVERY_CONNECTIONS);
	await inParallel(messages, DELIVERY_CONNECTIONS, async (message) => {
		await deliverer.deliver(inbox, message);
	});
	deliverer.close();
	log(`per-message: ${count} waiting in ${inbox}`);
	const pid = lab.n8n.pid;
	const results: RateResult[] = [];
	for (const what of ['ours', 'baseline'] as const) {
		const sampler = sampleCpu(pid, CPU_SAMPLE_MS);
		const workflow =
			what === 'ours'
				? oursTriggerWorkflow('Catch-up: AgentMail Trigger, one run per message', lab.ours[inbox], {
						startFrom: 'unread',
					})
				: baselineWorkflow('Catch-up: empty runs', count);
		const id = await lab.client.createWorkflow(workflow);
		await lab.client.activateWorkflow(id);
		if (what === 'ours') {
			await waitForMessages(
				lab,
				id,
				messages.map((message) => message.subject),
				{ quietMs: QUIET_MS, timeoutMs: BURST_TIMEOUT_MS },
			);
		} else {
			await waitForQuiet(lab, id, {
				atLeast: count,
				quietMs: QUIET_MS,
				timeoutMs: BURST_TIMEOUT_MS,
			});
		}
		sampler.stop();
		await lab.client.deactivateWorkflow(id);
		const subjects = what === 'ours' ? messages.map((message) => message.subject) : [];
		const counted =
			what === 'ours'
				? await tally(context, id, subjects)
				: { executions: await listExecutions(lab, id), items: count, missing: 0, duplicates: 0 };
		const measured = rateOf(counted.executions, sampler.samples);
		results.push({
			what,
			runs: counted.executions.length,
			items: counted.items,
			missing: counted.missing,
			duplicates: counted.duplicates,
			...measured,
		});
		log(
			`per-message ${what}: ${counted.executions.length} runs started within ${measured.spanMs} ms = ${measured.rate} runs/s, all ended after ${measured.wallMs} ms; CPU ${measured.cpuMs} ms`,
		);
		await sleep(QUIET_MS);
	}
	return results;
}

/**
 * Runs the benchmark-only trigger with the burst's items (20 per run, mail-sized) until its
 * runs are all done, sampling n8n's CPU meanwhile. `emitter` sets its pace and start; `during`
 * runs once it is active, before the wait for its runs.
 */
async function runN8nAlone(
	context: BenchContext,
	name: string,
	count: number,
	emitter: Pick<BaselineOptions, 'intervalMs' | 'startAt'> = {},
	during?: () => Promise<void>,
) {
	const { lab } = context;
	const sampler = sampleCpu(lab.n8n.pid, CPU_SAMPLE_MS);
	const id = await lab.client.createWorkflow(
		baselineWorkflow(name, count, { perRun: BATCH_SIZE, mailSized: true, ...emitter }),
	);
	await lab.client.activateWorkflow(id);
	try {
		await during?.();
		const executions = await waitForQuiet(lab, id, {
			atLeast: Math.ceil(count / BATCH_SIZE),
			quietMs: QUIET_MS,
			timeoutMs: BURST_TIMEOUT_MS,
		});
		return { id, executions, cpu: sampler.samples };
	} finally {
		sampler.stop();
		await lab.client.deactivateWorkflow(id);
	}
}

/** Emit → run start over the benchmark-only trigger's runs, ms. */
function emitLag(emits: ReturnType<typeof baselineEmits>): { p50: number; max: number } {
	const lags = emits.map((run) => run.startedAt - run.emittedAt);
	return { p50: round(percentile(lags, 50)), max: round(Math.max(...lags)) };
}

/**
 * n8n's own share of a batched burst: the benchmark-only trigger emits as many items, 20 to a
 * run, carrying what the parsed mail carries (text, HTML on every other one; no attachments),
 * without reading any mail. The CPU n8n uses for that is what no trigger can save.
 */
export async function n8nAloneBurst(context: BenchContext, count: number): Promise<RateResult> {
	const { log } = context;
	const { executions, cpu } = await runN8nAlone(
		context,
		'Burst: n8n alone, the same items, 20 per run',
		count,
	);
	const measured = rateOf(executions, cpu);
	log(
		`burst, n8n alone: ${executions.length} runs of ${BATCH_SIZE} mail-sized items; CPU ${measured.cpuMs} ms, main thread ${measured.mainThreadCpuMs} ms`,
	);
	return {
		what: 'baseline',
		runs: executions.length,
		items: count,
		missing: 0,
		duplicates: 0,
		...measured,
	};
}

/** n8n alone given the burst's runs at the pace the mail arrived: does n8n itself keep up? */
export interface PacedN8nAlone {
	runs: number;
	/** Pause between two emits: the delivery time of our pass over its number of runs. */
	intervalMs: number;
	/** Last run start minus the last emit, ms. */
	lastRunAfterLastEmitMs: number;
	/** Emit → run start over all runs, ms. */
	lag: { p50: number; max: number };
	/** n8n's CPU from the first run start to the last run end, ms. */
	cpuMs: number;
}

/**
 * The batched burst's items (20 per run, mail-sized, no attachments) emitted by the
 * benchmark-only trigger at the pace our burst's mail arrived, with no mail read: how long
 * after its last emit n8n starts the last run is the part of "last run after the last
 * delivery" that n8n itself accounts for.
 */
export async function pacedN8nAloneBurst(
	context: BenchContext,
	count: number,
	deliveryMs: number,
): Promise<PacedN8nAlone> {
	const { lab, log } = context;
	const intervalMs = Math.round(deliveryMs / Math.ceil(count / BATCH_SIZE));
	const { id, executions, cpu } = await runN8nAlone(
		context,
		'Burst: n8n alone, paced as the mail arrived',
		count,
		{ intervalMs },
	);
	// With their data: each run's item carries its emit time.
	const emits = baselineEmits(await listExecutions(lab, id, true));
	const last = emits[emits.length - 1];
	const result: PacedN8nAlone = {
		runs: executions.length,
		intervalMs,
		lastRunAfterLastEmitMs: last.startedAt - last.emittedAt,
		lag: emitLag(emits),
		cpuMs: rateOf(executions, cpu).cpuMs,
	};
	log(
		`burst, n8n alone paced ${intervalMs} ms: last run ${result.lastRunAfterLastEmitMs} ms after the last emit; lag p50 ${result.lag.p50} max ${result.lag.max} ms; CPU ${result.cpuMs} ms`,
	);
	return result;
}

/** n8n alone while the burst is delivered: what the host leaves for any trigger. */
export interface LoadedN8nAlone {
	runs: number;
	/** Pause between two emits: the delivery time of our pass over its number of runs. */
	intervalMs: number;
	/** First to last delivery of this pass, ms. */
	deliveryMs: number;
	/** Last run start minus the last delivery, ms: "last run after the last delivery" for a trigger with no mail work. */
	lastRunAfterLastMs: number;
	/** Last run start minus the last emit, ms. */
	lastRunAfterLastEmitMs: number;
	/** Emit → run start over all runs, ms. */
	lag: { p50: number; max: number };
	/** n8n's CPU and its main thread's, first delivery → last run end, ms. */
	cpuMs: number;
	mainThreadCpuMs: number;
	/** How busy the whole machine was in that window, percent. */
	machineBusyPercent: number;
}

/** Time between activating the benchmark-only trigger and its first emit, for the two to line up. */
const LOADED_START_DELAY_MS = 3_000;

/**
 * The batched burst's runs (20 mail-sized items each, no attachments) emitted by the
 * benchmark-only trigger at our pass's pace, while the same burst is delivered to an inbox no
 * one watches: the emits and the delivery start together. A trigger that reads nothing cannot
 * do better than this run's "last run after the last delivery" on this machine.
 */
export async function loadedN8nAloneBurst(
	context: BenchContext,
	count: number,
	deliveryMs: number,
): Promise<LoadedN8nAlone> {
	const { lab, log } = context;
	const runs = Math.ceil(count / BATCH_SIZE);
	const intervalMs = Math.round(deliveryMs / runs);
	const startAt = Date.now() + LOADED_START_DELAY_MS;
	let first = 0;
	let last = 0;
	const { id, executions, cpu } = await runN8nAlone(
		context,
		'Burst: n8n alone while the burst is delivered',
		count,
		{ intervalMs, startAt },
		async () => {
			const messages = burstMessages('unwatched', count);
			const deliverer = new Deliverer(lab.info, DELIVERY_CONNECTIONS);
			try {
				await sleep(Math.max(0, startAt - Date.now()));
				first = Date.now();
				await inParallel(messages, DELIVERY_CONNECTIONS, async (message) => {
					last = Math.max(last, await deliverer.deliver(INBOX.other, message));
				});
			} finally {
				deliverer.close();
			}
		},
	);
	const emits = baselineEmits(await listExecutions(lab, id, true));
	const lastEmit = emits[emits.length - 1];
	const lastStart = Math.max(...emits.map((run) => run.startedAt));
	const lastEnd = Math.max(...executions.map((execution) => Date.parse(execution.stoppedAt ?? '')));
	// From the first delivery: before it the emitter only waits for its start time.
	const used = cpuWindow(cpu, lastEnd, first);
	const result: LoadedN8nAlone = {
		runs: emits.length,
		intervalMs,
		deliveryMs: last - first,
		lastRunAfterLastMs: lastStart - last,
		lastRunAfterLastEmitMs: lastStart - lastEmit.emittedAt,
		lag: emitLag(emits),
		cpuMs: round(used.processMs),
		mainThreadCpuMs: round(used.mainThreadMs),
		machineBusyPercent: round(used.machineBusyPercent),
	};
	log(
		`burst, n8n alone while ${count} are delivered in ${result.deliveryMs} ms (emits ${intervalMs} ms apart): last run ${result.lastRunAfterLastMs} ms after the last delivery, ${result.lastRunAfterLastEmitMs} ms after the last emit; lag p50 ${result.lag.p50} max ${result.lag.max} ms; CPU ${result.cpuMs} ms, main thread ${result.mainThreadCpuMs} ms; machine ${result.machineBusyPercent}% busy`,
	);
	return result;
}
