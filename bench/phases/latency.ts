/**
 * Latency: single messages, one at a time, from the moment Dovecot has stored one (LMTP said
 * yes) to the moment n8n started the run that carried it (the execution's startedAt; n8n 2.41's
 * Email Trigger puts several messages in one run, ours one per run). Beside the trigger
 * a bare imapflow client idles on the same folder: when it hears of the message is the floor.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Execution } from '../../tools/n8n/server';
import { INBOX } from '../lab/lab';
import { benchMessage, Deliverer } from '../lab/mail';
import { IdleFloor } from '../lab/floor';
import { percentile } from '../lab/proc';
import {
	createdTimes,
	listExecutions,
	startedAt,
	waitForMessages,
	waitForQuiet,
} from '../lab/runs';
import {
	baselineEmits,
	baselineWorkflow,
	itemSubject,
	nodeItems,
	TRIGGER,
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

/**
 * Between two messages: well past Dovecot's 500 ms notification delay and the run itself, plus
 * a random part. With a fixed 1 s, the notification Dovecot owes an idling client for the
 * previous message's \Seen flag (due 500 ms after the trigger's STORE) fell just after the next
 * delivery and told the floor client about it early in a quarter of the cases.
 */
const SPACING_MS = 1_200;
const SPACING_JITTER_MS = 300;
/** Messages sent first and not counted (connections and code paths warmed up). */
const WARM_UP = 3;
/** After the last message, how long nothing new may start before the phase ends. */
const QUIET_MS = 3_000;
/** Between two emits of the benchmark-only trigger: n8n idle again, as between two messages. */
const N8N_ALONE_SPACING_MS = 300;

export interface LatencySide {
	side: Side;
	messages: number;
	/**
	 * Runs that carried the measured messages (one per message for ours; fewer for n8n 2.41's
	 * trigger, which carries several in one). Absent in results from before n8n 2.41.
	 */
	runs?: number;
	/** Delivery → start of the run that carried it, ms, in delivery order. */
	run: number[];
	/** Delivery → the floor client heard of it, ms. */
	floor: number[];
	/**
	 * Delivery → n8n created the run (it had the trigger's emit and stored the run, not yet
	 * started), ms, in delivery order. Absent in results from before 2026-11-24 23:35 UTC.
	 */
	created?: number[];
	/** n8n's own wait from creating each run to starting it, ms, in delivery order. */
	held?: number[];
	missing: number;
	duplicates: number;
	summary: Record<'run' | 'floor', Summary> & { created?: Summary; held?: Summary };
}

export interface Summary {
	p50: number;
	p95: number;
	max: number;
}

export function summarize(values: number[]): Summary {
	return {
		p50: round(percentile(values, 50)),
		p95: round(percentile(values, 95)),
		max: round(Math.max(...values)),
	};
}

export async function latency(
	context: BenchContext,
	side: Side,
	messages: number,
): Promise<LatencySide> {
	const { lab, log } = context;
	const inbox = SIDE_INBOX[side];
	const id = await activate(context, side, sideTriggerWorkflow(lab, side, 'Latency'));
	const floor = await IdleFloor.start(lab.info, inbox);
	const deliverer = new Deliverer(lab.info);
	const delivered = new Map<string, number>();
	let executions: Execution[] = [];
	try {
		for (let i = 0; i < WARM_UP + messages; i++) {
			const subject = `latency ${side} ${i < WARM_UP ? 'warm-up' : 'measured'} ${i}`;
			const at = await deliverer.deliver(inbox, benchMessage(subject));
			if (i >= WARM_UP) delivered.set(subject, at);
			await sleep(SPACING_MS + Math.random() * SPACING_JITTER_MS);
			if ((i + 1) % 50 === 0) log(`latency ${side}: ${i + 1}/${WARM_UP + messages} delivered`);
		}
		// Messages, not runs: n8n 2.41's trigger puts several messages in one run.
		({ executions } = await waitForMessages(lab, id, delivered.keys(), {
			quietMs: QUIET_MS,
			timeoutMs: 120_000,
		}));
	} finally {
		deliverer.close();
		await floor.stop();
		await deactivate(context, id);
	}
	const seen = new Map<string, Array<{ id: string; startedAt: number }>>();
	for (const execution of executions) {
		for (const item of nodeItems(execution, TRIGGER)) {
			const subject = itemSubject(item);
			const start = { id: String(execution.id), startedAt: startedAt(execution) };
			seen.set(subject, [...(seen.get(subject) ?? []), start]);
		}
	}
	const createdAt = await createdTimes(
		lab,
		executions.map((execution) => execution.id),
	);
	const run: number[] = [];
	const created: number[] = [];
	const held: number[] = [];
	const floorLatency: number[] = [];
	let missing = 0;
	let duplicates = 0;
	const carrying = new Set<string>();
	for (const [subject, at] of delivered) {
		const starts = seen.get(subject) ?? [];
		if (starts.length === 0) missing++;
		if (starts.length > 1) duplicates++;
		const first = starts.sort((a, b) => a.startedAt - b.startedAt)[0];
		if (first) {
			carrying.add(first.id);
			run.push(first.startedAt - at);
			const creation = createdAt.get(first.id);
			if (creation !== undefined) {
				created.push(creation - at);
				held.push(first.startedAt - creation);
			}
		}
		const heard = floor.heardAfter(at);
		if (heard !== undefined) floorLatency.push(heard - at);
	}
	const result: LatencySide = {
		side,
		messages,
		runs: carrying.size,
		run,
		floor: floorLatency,
		created,
		held,
		missing,
		duplicates,
		summary: {
			run: summarize(run),
			floor: summarize(floorLatency),
			created: summarize(created),
			held: summarize(held),
		},
	};
	log(
		`latency ${side}: ${messages} messages in ${result.runs} run${result.runs === 1 ? '' : 's'}; run p50 ${result.summary.run.p50} p95 ${result.summary.run.p95} max ${result.summary.run.max} ms; created → started max ${result.summary.held?.max} ms; floor p50 ${result.summary.floor.p50} max ${result.summary.floor.max} ms; missing ${missing}, duplicates ${duplicates}`,
	);
	return result;
}

/** n8n's own part of the latency: from a trigger's emit to the run's start. */
export interface N8nAloneLatency {
	/** Whether the trigger changed its static data before each emit (as the mail triggers do). */
	savePosition?: boolean;
	/** Whether the trigger's node held a credential (as the mail triggers' do). */
	withCredential?: boolean;
	runs: number;
	/** Emit → run start, ms, in emit order. */
	run: number[];
	/**
	 * n8n's own wait from creating each run to starting it, ms, in emit order (absent before
	 * 2026-11-24 23:35 UTC).
	 */
	held?: number[];
	summary: Summary;
	heldSummary?: Summary;
}

/**
 * The benchmark-only trigger emits single empty runs (with a deduplication key, as ours does)
 * one at a time; each run's `startedAt` minus the emit time it carries is what n8n itself adds
 * to any trigger's latency, measured in the same n8n during the same bench run. With
 * `savePosition` it changes its static data before each emit, as both mail triggers do (they
 * keep their watermark there): n8n then writes the static data to its database as the run
 * starts. With `withCredential` its node also holds a credential (never read), as the mail
 * triggers' nodes do: n8n then checks the workflow's access to it before each run.
 */
export async function n8nAloneLatency(
	context: BenchContext,
	runs: number,
	{
		savePosition = false,
		withCredential = false,
	}: Pick<N8nAloneLatency, 'savePosition' | 'withCredential'> = {},
): Promise<N8nAloneLatency> {
	const { lab, log } = context;
	const name =
		(savePosition ? 'saving its position with each emit' : 'emit to run start') +
		(withCredential ? ', with a credential' : '');
	const id = await activate(
		context,
		'baseline',
		baselineWorkflow(`Latency: n8n alone, ${name}`, WARM_UP + runs, {
			intervalMs: N8N_ALONE_SPACING_MS,
			savePosition,
			credential: withCredential ? lab.ours[INBOX.agent] : undefined,
		}),
	);
	try {
		await waitForQuiet(lab, id, {
			atLeast: WARM_UP + runs,
			quietMs: QUIET_MS,
			timeoutMs: 120_000,
		});
	} finally {
		await deactivate(context, id);
	}
	const emits = baselineEmits(await listExecutions(lab, id, true)).filter(
		(run) => run.i >= WARM_UP,
	);
	const measured = emits.map((run) => run.startedAt - run.emittedAt);
	const createdAt = await createdTimes(
		lab,
		emits.map((run) => run.id),
	);
	const held = emits.flatMap((run) => {
		const creation = createdAt.get(String(run.id));
		return creation === undefined ? [] : [run.startedAt - creation];
	});
	const result = {
		savePosition,
		withCredential,
		runs: measured.length,
		run: measured,
		held,
		summary: summarize(measured),
		heldSummary: summarize(held),
	};
	log(
		`latency, n8n alone${savePosition ? ', position saved' : ''}${withCredential ? ', with a credential' : ''}: emit → run start p50 ${result.summary.p50} p95 ${result.summary.p95} max ${result.summary.max} ms over ${result.runs} runs`,
	);
	return result;
}
