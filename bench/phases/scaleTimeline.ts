/**
 * Where the time goes at the scale phase's largest count, for the two results the scale phase
 * leaves without a cause: activating every trigger when n8n starts, and the mail that waited
 * through the outage. Per side, n8n started with `count` triggers active (and once with as many
 * do-nothing triggers, the floor), then for ours and n8n's the scale phase's 5 s outage again,
 * while:
 *
 * - n8n's log and Dovecot's are read every 20 ms and each line is stamped when read (n8n's
 *   info lines carry no time, Dovecot's only the second): each trigger's start (the floor's
 *   own line; Dovecot's login of each inbox for ours and n8n's), our trigger's "connection ...
 *   restored";
 * - n8n's CPU (the process, and its JavaScript thread) and the machine's are read every 100 ms;
 * - each waiting message's run is read back: when n8n created it and when it started.
 *
 * No idle windows and no latency rounds: those are the scale phase's.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import os from 'node:os';

import { extraInboxAddresses } from '../../tools/sandbox/inboxes';
import { cpuWindow, percentile, sampleCpu, type CpuSample } from '../lab/proc';
import { createdTimes } from '../lab/runs';
import { INBOX, type Lab } from '../lab/lab';
import { LineClock } from '../../tools/tail';
import type { Side } from '../lab/workflows';
import { round, type BenchContext } from './common';
import { waitFor } from '../../tools/wait';
import {
	allConnected,
	builtinCredentials,
	createFloor,
	createTriggers,
	deactivateAll,
	INBOX_SETS,
	measure,
	outage,
	untilAllPublished,
	type CarryingRun,
} from './scale';

/** How often n8n's and the machine's CPU are read. */
const CPU_SAMPLE_MS = 100;
/** The outage's CPU is reported in slices this long. */
const SLICE_MS = 500;
/**
 * The do-nothing trigger logs this when n8n starts it (bench/baseline-node). n8n 2.40 writes
 * nothing at info level when it activates a workflow: it publishes them in the background
 * (N8N_WORKFLOW_PUBLICATION_CONCURRENCY at a time) with debug lines only.
 */
const FLOOR_STARTED = /^Bench Emitter started/;
/** Our trigger's line once a session is back (nodes/shared/imap/reconnect.ts). */
const RESTORED = /IMAP connection to .* restored after \d+ ms/;
/** Every workflow must be activated within this after n8n is ready. */
const ACTIVATION_TIMEOUT_MS = 180_000;
/** The floor's burst moment, this long after it begins creating its workflows (200 take ~15 s). */
const FLOOR_BURST_LEAD_MS = 60_000;
/** After the last activation: lines still on their way are read. */
const SETTLE_MS = 2_000;

/** Moments after a zero, ms: how many, the first, the median and the last. */
export interface Moments {
	count: number;
	first: number | null;
	p50: number | null;
	last: number | null;
}

export interface StartTimeline {
	side: Side | 'baseline';
	triggers: number;
	/** n8n started → answering its readiness probe. */
	readyMs: number;
	/**
	 * n8n started → each trigger up: the floor's when n8n started it, ours and n8n's when
	 * Dovecot logged its inbox's login.
	 */
	up: Moments;
	/** From the first trigger up to the last, per trigger after the first. */
	perTriggerMs: number | null;
	/** n8n started → the first IMAP connection (TCP), and every trigger holding one (not the floor). */
	firstConnectionMs: number | null;
	connectedMs: number | null;
	/** n8n's JavaScript thread between the first trigger up and the last, % of one core. */
	threadBusyPercent: number | null;
}

export interface OutageSlice {
	/** The slice's start, ms after Dovecot accepted again. */
	fromMs: number;
	/** n8n's JavaScript thread, and its whole process, % of one core. */
	thread: number;
	process: number;
	/** Everything else on the machine (Dovecot, the bench), % of one core. */
	rest: number;
}

export interface OutageTimeline {
	/** baseline: do-nothing triggers emitting at one moment, which stands in for the return. */
	side: Side | 'baseline';
	triggers: number;
	/** Every moment below is ms after Dovecot accepted connections again. */
	allBackMs: number | null;
	logins: Moments;
	/** Our trigger's "restored" lines (n8n's trigger writes none). */
	restored: Moments;
	/** The waiting messages' runs: created by n8n (it had the emit), and started. */
	created: Moments;
	started: Moments;
	lost: number;
	duplicates: number;
	/** n8n's JavaScript thread's CPU from Dovecot's return to the last run start, per trigger. */
	threadMsPerTrigger: number | null;
	slices: OutageSlice[];
}

export interface ScaleTimeline {
	triggers: number;
	starts: StartTimeline[];
	outages: OutageTimeline[];
}

function moments(times: number[], zero: number): Moments {
	const values = times.map((time) => time - zero).sort((a, b) => a - b);
	if (values.length === 0) return { count: 0, first: null, p50: null, last: null };
	return {
		count: values.length,
		first: round(values[0]),
		p50: round(percentile(values, 50)),
		last: round(values[values.length - 1]),
	};
}

/** Dovecot's login lines for inboxes whose address starts with `prefix`. */
function loginPattern(prefix: string): RegExp {
	return new RegExp(`Login: user=<${prefix}`);
}

/** n8n's JavaScript thread and whole process in a window of CPU samples, % of one core. */
function busy(window: ReturnType<typeof cpuWindow>): { thread: number; process: number } {
	if (window.windowMs <= 0) return { thread: 0, process: 0 };
	return {
		thread: round((100 * window.mainThreadMs) / window.windowMs),
		process: round((100 * window.processMs) / window.windowMs),
	};
}

/** n8n started with `count` triggers of a side active: ready, each activation, every session. */
async function start(
	context: BenchContext,
	side: Side | 'baseline',
	count: number,
): Promise<StartTimeline> {
	const { lab, log } = context;
	let n8nLog: LineClock | undefined;
	let dovecotLog: LineClock | undefined;
	let startedAt = 0;
	await lab.restartN8n(async () => {
		n8nLog = new LineClock(lab.n8n.logFile);
		dovecotLog = new LineClock(lab.sandbox.imapLogFile);
		startedAt = Date.now();
	});
	const readyAt = Date.now();
	const cpu = sampleCpu(lab.n8n.pid, CPU_SAMPLE_MS);
	const upTimes = () =>
		side === 'baseline'
			? n8nLog!.times(FLOOR_STARTED)
			: dovecotLog!.times(loginPattern(INBOX_SETS[side].prefix));
	let connected: number | null = null;
	let firstConnection: number | null = null;
	try {
		if (side !== 'baseline') {
			firstConnection = await allConnected(lab, 1, startedAt);
			connected = await allConnected(lab, count, startedAt);
		}
		await waitFor('every trigger up', () => upTimes().length >= count, ACTIVATION_TIMEOUT_MS).catch(
			() => log(`scale timeline ${side}: not every trigger started in time`),
		);
		await sleep(SETTLE_MS);
	} finally {
		cpu.stop();
		n8nLog?.stop();
		dovecotLog?.stop();
	}
	const up = upTimes();
	const [first, last] = [up[0], up[up.length - 1]];
	const several = up.length > 1;
	const result: StartTimeline = {
		side,
		triggers: count,
		readyMs: readyAt - startedAt,
		up: moments(up, startedAt),
		perTriggerMs: several ? round((last - first) / (up.length - 1), 1) : null,
		firstConnectionMs: firstConnection === null ? null : firstConnection - startedAt,
		connectedMs: connected === null ? null : connected - startedAt,
		// The sampler starts once n8n is ready; triggers may start a little before.
		threadBusyPercent: several
			? busy(cpuWindow(cpu.samples, last, Math.max(first, readyAt))).thread
			: null,
	};
	log(
		`scale timeline ${side} ×${count} start: ready ${result.readyMs} ms, triggers up ${result.up.first}–${result.up.last} ms (${result.perTriggerMs} ms each, JS thread ${result.threadBusyPercent}% busy), first connection ${result.firstConnectionMs} ms, all connected ${result.connectedMs} ms`,
	);
	return result;
}

/**
 * n8n's and the machine's CPU per slice from `zero` until the last of `starts` (and a slice
 * after), and n8n's JavaScript thread's CPU from `zero` to the last start.
 */
function slicesFrom(
	samples: CpuSample[],
	zero: number,
	starts: number[],
): { slices: OutageSlice[]; threadMs: number | null } {
	const lastStart = starts.length ? Math.max(...starts) : null;
	const slices: OutageSlice[] = [];
	for (let from = zero; lastStart !== null && from < lastStart + SLICE_MS; from += SLICE_MS) {
		const window = cpuWindow(samples, from + SLICE_MS, from);
		if (window.windowMs <= 0) break;
		const { thread, process } = busy(window);
		// The machine's busy share is of all cores; what n8n did not use of it, in one core's terms.
		const cores = (window.machineBusyPercent / 100) * os.cpus().length;
		slices.push({
			fromMs: from - zero,
			thread,
			process,
			rest: Math.max(0, round(cores * 100 - process)),
		});
	}
	const threadMs = lastStart === null ? null : cpuWindow(samples, lastStart, zero).mainThreadMs;
	return { slices, threadMs };
}

/** The first runs' creation and start moments after `zero`, and the CPU until the last start. */
async function runTimes(
	lab: Lab,
	firstRuns: CarryingRun[],
	zero: number,
	samples: CpuSample[],
	triggers: number,
): Promise<Pick<OutageTimeline, 'created' | 'started' | 'threadMsPerTrigger' | 'slices'>> {
	const created = await createdTimes(
		lab,
		firstRuns.map((first) => first.executionId),
	);
	const starts = firstRuns.map((first) => first.startedAt);
	const { slices, threadMs } = slicesFrom(samples, zero, starts);
	// Per message: a run that carried several messages counts once for each.
	const createdPerMessage = firstRuns.flatMap((first) => created.get(first.executionId) ?? []);
	return {
		created: moments(createdPerMessage, zero),
		started: moments(starts, zero),
		threadMsPerTrigger: threadMs === null ? null : round(threadMs / triggers, 1),
		slices,
	};
}

/**
 * n8n's own share: `count` do-nothing triggers each emit one mail-sized item at the same
 * moment, as the triggers do with the mail that waited, each with a credential on the node and
 * a changed watermark (as ours); when n8n created and started the runs.
 */
async function floorBurst(context: BenchContext, count: number): Promise<OutageTimeline> {
	const { lab, log } = context;
	const at = Date.now() + FLOOR_BURST_LEAD_MS;
	const ids = await createFloor(lab, count, {
		items: 1,
		// As our trigger does per message: a credential n8n checks access to, and a watermark.
		options: {
			mailSized: true,
			savePosition: true,
			credential: lab.ours[INBOX.agent],
			startAt: at,
		},
	});
	try {
		if (Date.now() >= at) throw new Error('the floor burst was not activated before its moment');
		const cpu = sampleCpu(lab.n8n.pid, CPU_SAMPLE_MS);
		const firstRuns: CarryingRun[] = [];
		let waiting;
		try {
			const deliveries = ids.map((_, index) => ({ index, subject: 'item 0', at }));
			waiting = await measure(lab, ids, deliveries, firstRuns);
		} finally {
			cpu.stop();
		}
		const timeline: OutageTimeline = {
			side: 'baseline',
			triggers: count,
			allBackMs: null,
			logins: moments([], at),
			restored: moments([], at),
			...(await runTimes(lab, firstRuns, at, cpu.samples, count)),
			lost: waiting.lost,
			duplicates: waiting.duplicates,
		};
		log(
			`scale timeline floor ×${count} at once: runs created ${timeline.created.first}–${timeline.created.last} ms, started ${timeline.started.first}–${timeline.started.last} ms after the emit; JS thread ${timeline.threadMsPerTrigger} ms per trigger`,
		);
		return timeline;
	} finally {
		await deactivateAll(lab, ids);
	}
}

/** The outage of the scale phase again, with every line, run and CPU reading kept. */
async function outageTimeline(
	context: BenchContext,
	side: Side,
	ids: string[],
	addresses: string[],
): Promise<OutageTimeline> {
	const { lab, log } = context;
	const n8nLog = new LineClock(lab.n8n.logFile);
	const dovecotLog = new LineClock(lab.sandbox.imapLogFile);
	const cpu = sampleCpu(lab.n8n.pid, CPU_SAMPLE_MS);
	let run;
	try {
		run = await outage(lab, ids, addresses);
	} finally {
		cpu.stop();
		n8nLog.stop();
		dovecotLog.stop();
	}
	const { backAt, firstRuns, result } = run;
	const timeline: OutageTimeline = {
		side,
		triggers: addresses.length,
		allBackMs: result.allBackMs,
		logins: moments(dovecotLog.times(loginPattern(INBOX_SETS[side].prefix), backAt), backAt),
		restored: moments(n8nLog.times(RESTORED, backAt), backAt),
		...(await runTimes(lab, firstRuns, backAt, cpu.samples, addresses.length)),
		lost: result.waiting.lost,
		duplicates: result.waiting.duplicates,
	};
	log(
		`scale timeline ${side} ×${addresses.length} outage: logins ${timeline.logins.first}–${timeline.logins.last} ms, runs created ${timeline.created.first}–${timeline.created.last} ms, started ${timeline.started.first}–${timeline.started.last} ms after Dovecot's return; JS thread ${timeline.threadMsPerTrigger} ms per trigger`,
	);
	return timeline;
}

export async function scaleTimeline(context: BenchContext, count: number): Promise<ScaleTimeline> {
	const { lab } = context;
	const credentials = await builtinCredentials(lab, count);
	const starts: StartTimeline[] = [];
	const outages: OutageTimeline[] = [];
	// With a credential on the node that it reads when started, as the mail triggers do.
	const floorIds = await createFloor(lab, count, {
		items: 0,
		options: { credential: lab.ours[INBOX.agent], readCredential: true },
	});
	try {
		starts.push(await start(context, 'baseline', count));
	} finally {
		await deactivateAll(lab, floorIds);
	}
	outages.push(await floorBurst(context, count));
	for (const side of ['ours', 'builtin'] as const) {
		const addresses = extraInboxAddresses({ ...INBOX_SETS[side], count });
		const ids = await createTriggers(context, side, addresses, credentials);
		try {
			await untilAllPublished(lab, count);
			await sleep(SETTLE_MS);
			starts.push(await start(context, side, count));
			outages.push(await outageTimeline(context, side, ids, addresses));
		} finally {
			await deactivateAll(lab, ids);
		}
	}
	return { triggers: count, starts, outages };
}
