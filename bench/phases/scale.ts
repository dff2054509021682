/**
 * Scale: many triggers in one n8n main, each on an inbox of its own. Ours all share one
 * AgentMail credential (one API key) with Inbox Address set per workflow; n8n's Email Trigger
 * needs one IMAP credential per inbox. For each side and count, in a freshly started n8n with
 * only that side's triggers active:
 *
 * - the start: n8n started with all of them active, until every trigger holds its IMAP
 *   session (established connections at the sandbox), and how many logins that took;
 * - n8n's settled memory and its CPU while they idle, beside n8n with no trigger at all and
 *   n8n with as many do-nothing triggers (the benchmark-only one): what n8n itself costs per
 *   active workflow, the floor;
 * - delivery → run start for one inbox at a time while the others idle, and for a message
 *   delivered to 20 inboxes at once;
 * - at the largest count: Dovecot killed and back after 5 s, with a counting stand-in on its
 *   port meanwhile (connection attempts per second), the time until every trigger holds a
 *   session again, and the mail that waited, answered once each.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import net from 'node:net';
import { readFileSync, statSync } from 'node:fs';

import { extraInboxAddresses, type ExtraInboxes } from '../../tools/sandbox/inboxes';
import { imapCredentialData, INBOX, type CredentialRef, type Lab } from '../lab/lab';
import { benchMessage, Deliverer } from '../lab/mail';
import { cpuMs, machineCpuMs, percentile } from '../lab/proc';
import { inParallel, listExecutions, startedAt } from '../lab/runs';
import {
	baselineWorkflow,
	builtinTriggerWorkflow,
	itemSubject,
	nodeItems,
	oursTriggerWorkflow,
	TRIGGER,
	type BaselineOptions,
	type Side,
} from '../lab/workflows';
import { round, type BenchContext } from './common';
import { settledRss } from './memory';
import { firstAccept } from './recovery';

/** The inboxes of each side: ours open with agent@'s key, n8n's with peer@'s. */
export const INBOX_SETS: Record<Side, Omit<ExtraInboxes, 'count'>> = {
	ours: { prefix: 'scale-ours-', keyOf: INBOX.agent },
	builtin: { prefix: 'scale-n8n-', keyOf: INBOX.peer },
};
/** Messages delivered one at a time per count, each to the next inbox. */
const SPACING_MS = 1_200;
/** Inboxes one message is delivered to at once (one LMTP transaction, 20 recipients). */
const AT_ONCE = 20;
/** Between two at-once deliveries: every run of the last one over. */
const AT_ONCE_SPACING_MS = 3_000;
/** How long the IMAP server stays down in the outage. */
const OUTAGE_MS = 5_000;
/** Every trigger must hold its session within this after n8n starts or Dovecot returns. */
const CONNECT_TIMEOUT_MS = 180_000;
/** Between two counts of the sandbox's established IMAP connections. */
const CONNECTION_POLL_MS = 100;
/** The mail of a step must have started its runs within this. */
const RUNS_TIMEOUT_MS = 180_000;
/** After the last expected run: later runs (duplicates) still get this long to show up. */
const RUNS_QUIET_MS = 5_000;
/**
 * The floor's triggers hold no connection to wait for, and n8n activates workflows only after
 * it answers its readiness probe: its memory and CPU are read this long after that. (The
 * 22:11 run read them at once, while n8n was still activating 200 workflows.)
 */
const FLOOR_ACTIVATION_WAIT_MS = 60_000;
/** API calls at once when creating, activating and reading many workflows. */
const API_PARALLEL = 8;
const MB = 1024 * 1024;

/** The extra sandbox inboxes the phase needs for `max` triggers per side. */
export function scaleInboxes(max: number): ExtraInboxes[] {
	return (['ours', 'builtin'] as const).map((side) => ({ ...INBOX_SETS[side], count: max }));
}

export interface ScaleSizes {
	counts: number[];
	/** The idle window at the largest count and for n8n alone, s; shorter counts get `shortIdleS`. */
	idleS: number;
	shortIdleS: number;
	singles: number;
	atOnceRounds: number;
}

export interface LatencyStats {
	/** The earliest; absent in results saved before it was kept. */
	min?: number;
	p50: number;
	p95: number;
	max: number;
	/** Messages (per inbox) never run, and run more than once. */
	lost: number;
	duplicates: number;
}

export interface ScaleStep {
	/** none: n8n with nothing active; baseline: with do-nothing triggers only. */
	side: Side | 'none' | 'baseline';
	triggers: number;
	/** n8n's RSS once settled, MB. */
	rssMb: number;
	/** n8n's CPU while idling, ms per second of the window, and the window. */
	idleCpuMsPerS: number;
	idleWindowS: number;
	/** How busy the whole machine was in the window, % of all cores. */
	machineBusyPercent: number;
	/** n8n (re)started → every trigger holding an IMAP session, ms. */
	startMs?: number | null;
	/** n8n (re)started → n8n answering /healthz/readiness, ms (inside startMs). */
	readyMs?: number;
	/** IMAP logins of this side's inboxes from the start until 5 s after all were connected. */
	logins?: number;
	single?: LatencyStats;
	atOnce?: LatencyStats;
	outage?: OutageResult;
}

export interface OutageResult {
	/** Connection attempts the stand-in counted, per whole second of the outage. */
	attemptsPerSecond: number[];
	/** Dovecot accepting again → every trigger holding a session again, ms. */
	allBackMs: number | null;
	/** One message per inbox put into the maildirs during the outage. */
	waiting: LatencyStats & { lastRunMs: number | null };
}

function stats(latencies: number[], lost: number, duplicates: number): LatencyStats {
	const values = latencies.length ? latencies : [NaN];
	return {
		min: round(Math.min(...values)),
		p50: round(percentile(values, 50)),
		p95: round(percentile(values, 95)),
		max: round(Math.max(...values)),
		lost,
		duplicates,
	};
}

/** Waits until the sandbox has at least `count` established IMAP connections; when, or null. */
export async function allConnected(lab: Lab, count: number, since: number): Promise<number | null> {
	const deadline = since + CONNECT_TIMEOUT_MS;
	while (Date.now() < deadline) {
		if ((await lab.sandbox.imapConnectionCount()) >= count) return Date.now();
		await sleep(CONNECTION_POLL_MS);
	}
	return null;
}

/** Dovecot's log lines from `offset` on that record a login of an inbox with this prefix. */
function loginsSince(lab: Lab, offset: number, prefix: string): number {
	const text = readFileSync(lab.sandbox.imapLogFile, 'utf8').slice(offset);
	return text.split('\n').filter((line) => line.includes(`Login: user=<${prefix}`)).length;
}

/** n8n's settled RSS and its CPU over an idle window. */
async function idle(
	lab: Lab,
	windowS: number,
): Promise<Pick<ScaleStep, 'rssMb' | 'idleCpuMsPerS' | 'idleWindowS' | 'machineBusyPercent'>> {
	const rss = await settledRss(lab.n8n.pid);
	const [cpu, machine, at] = [cpuMs(lab.n8n.pid), machineCpuMs(), Date.now()];
	await sleep(windowS * 1000);
	const [cpuEnd, machineEnd, end] = [cpuMs(lab.n8n.pid), machineCpuMs(), Date.now()];
	return {
		rssMb: round(rss / MB, 1),
		idleCpuMsPerS: round(((cpuEnd - cpu) * 1000) / (end - at), 2),
		idleWindowS: round((end - at) / 1000),
		machineBusyPercent: round(
			(100 * (machineEnd.busy - machine.busy)) / (machineEnd.all - machine.all),
		),
	};
}

/** One run that carried a delivered message. */
export interface CarryingRun {
	executionId: string;
	startedAt: number;
}

/**
 * The runs that carried each of `expected` (workflow index → subjects delivered to it), once
 * every one has a run and nothing new came for a while: per message its runs.
 */
async function runsFor(
	lab: Lab,
	ids: string[],
	expected: Map<number, Set<string>>,
): Promise<Map<string, CarryingRun[]>> {
	const deadline = Date.now() + RUNS_TIMEOUT_MS;
	let starts = new Map<string, CarryingRun[]>();
	let lastChange = Date.now();
	let lastCount = -1;
	for (;;) {
		const next = new Map<string, CarryingRun[]>();
		await inParallel([...expected.keys()], API_PARALLEL, async (index) => {
			for (const execution of await listExecutions(lab, ids[index], true)) {
				for (const item of nodeItems(execution, TRIGGER)) {
					const key = `${index}:${itemSubject(item)}`;
					if (!expected.get(index)?.has(itemSubject(item))) continue;
					const run = { executionId: String(execution.id), startedAt: startedAt(execution) };
					next.set(key, [...(next.get(key) ?? []), run]);
				}
			}
		});
		starts = next;
		const count = [...starts.values()].reduce((sum, runs) => sum + runs.length, 0);
		const wanted = [...expected.values()].reduce((sum, subjects) => sum + subjects.size, 0);
		if (count !== lastCount) [lastCount, lastChange] = [count, Date.now()];
		if (starts.size >= wanted && Date.now() - lastChange >= RUNS_QUIET_MS) return starts;
		if (Date.now() > deadline) return starts;
		await sleep(1_000);
	}
}

/**
 * Latency and counts of deliveries (workflow index, subject, delivered at); `firstRuns` gets
 * each message's first run.
 */
export async function measure(
	lab: Lab,
	ids: string[],
	deliveries: Array<{ index: number; subject: string; at: number }>,
	firstRuns: CarryingRun[] = [],
): Promise<LatencyStats & { lastRunMs: number | null }> {
	const expected = new Map<number, Set<string>>();
	for (const { index, subject } of deliveries) {
		expected.set(index, (expected.get(index) ?? new Set()).add(subject));
	}
	const starts = await runsFor(lab, ids, expected);
	const latencies: number[] = [];
	let [lost, duplicates, lastRun] = [0, 0, -Infinity];
	for (const { index, subject, at } of deliveries) {
		const runs = (starts.get(`${index}:${subject}`) ?? []).sort(
			(a, b) => a.startedAt - b.startedAt,
		);
		if (runs.length === 0) lost++;
		if (runs.length > 1) duplicates++;
		if (runs.length === 0) continue;
		latencies.push(runs[0].startedAt - at);
		lastRun = Math.max(lastRun, runs[0].startedAt);
		firstRuns.push(runs[0]);
	}
	const firstDelivery = Math.min(...deliveries.map((delivery) => delivery.at));
	return {
		...stats(latencies, lost, duplicates),
		lastRunMs: Number.isFinite(lastRun) ? lastRun - firstDelivery : null,
	};
}

/**
 * Waits until all `count` triggers activated through the API hold a session. n8n 2.40
 * publishes activated workflows in the background, a few at a time; a restart before it is
 * done left the new n8n those publications to finish first, and its first trigger then
 * connected 4 s later (the scale timeline's runs of 2026-12-07: 11.2 s against 7.1 s).
 */
export async function untilAllPublished(lab: Lab, count: number): Promise<void> {
	if ((await allConnected(lab, count, Date.now())) === null) {
		throw new Error(`not all ${count} triggers connected after their activation`);
	}
}

/** Creates the side's `count` workflows and activates them; returns their ids in inbox order. */
export async function createTriggers(
	context: BenchContext,
	side: Side,
	addresses: string[],
	credentials: Map<string, CredentialRef>,
): Promise<string[]> {
	const { lab } = context;
	const ids: string[] = new Array<string>(addresses.length);
	await inParallel(addresses, API_PARALLEL, async (address, index) => {
		const name = `Scale ${addresses.length}: ${side} ${address}`;
		const workflow =
			side === 'ours'
				? oursTriggerWorkflow(name, lab.ours[INBOX.agent], { inbox: address })
				: builtinTriggerWorkflow(name, credentials.get(address)!);
		ids[index] = await lab.client.createWorkflow(workflow);
		await lab.client.activateWorkflow(ids[index]);
	});
	return ids;
}

/** An outage as it happened: when Dovecot went and came back, and each waiting message's run. */
export interface OutageRun {
	result: OutageResult;
	killedAt: number;
	/** Dovecot accepting connections again. */
	backAt: number;
	firstRuns: CarryingRun[];
}

/** Dovecot killed, a counting stand-in on its port for 5 s, one message per inbox waiting. */
export async function outage(lab: Lab, ids: string[], addresses: string[]): Promise<OutageRun> {
	const attempts: number[] = [];
	const standIn = net.createServer((socket) => {
		attempts.push(Date.now());
		socket.destroy();
	});
	await lab.sandbox.killImap();
	const killedAt = Date.now();
	await new Promise<void>((resolve, reject) => {
		standIn.once('error', reject);
		standIn.listen(lab.info.imap.port, lab.info.imap.host, () => resolve());
	});
	const deliveries = addresses.map((address, index) => ({
		index,
		subject: `scale outage ${address}`,
		at: 0,
	}));
	for (const delivery of deliveries) {
		await lab.sandbox.depositInMaildir(
			addresses[delivery.index],
			benchMessage(delivery.subject).raw,
		);
	}
	await sleep(Math.max(0, killedAt + OUTAGE_MS - Date.now()));
	await new Promise<void>((resolve) => standIn.close(() => resolve()));
	const accepted = firstAccept(lab.info.imap.host, lab.info.imap.port, Date.now() + 30_000);
	await lab.sandbox.startImap();
	const backAt = await accepted;
	if (backAt === null) throw new Error('Dovecot did not accept connections again');
	const back = await allConnected(lab, addresses.length, backAt);
	for (const delivery of deliveries) delivery.at = backAt;
	const seconds = Math.ceil((backAt - killedAt) / 1000);
	const attemptsPerSecond = Array.from(
		{ length: seconds },
		(_, second) =>
			attempts.filter((t) => t - killedAt >= second * 1000 && t - killedAt < (second + 1) * 1000)
				.length,
	);
	const firstRuns: CarryingRun[] = [];
	const waiting = await measure(lab, ids, deliveries, firstRuns);
	return {
		result: { attemptsPerSecond, allBackMs: back === null ? null : back - backAt, waiting },
		killedAt,
		backAt,
		firstRuns,
	};
}

/**
 * Creates `count` workflows with the do-nothing trigger and activates them; their ids. By
 * default they emit nothing; `emit` makes each emit `items` items at a set moment.
 */
export async function createFloor(
	lab: Lab,
	count: number,
	emit?: { items: number; options: BaselineOptions },
): Promise<string[]> {
	const ids = Array.from({ length: count }, () => '');
	await inParallel(ids, API_PARALLEL, async (_, index) => {
		const workflow = baselineWorkflow(`Scale floor ${index}`, emit?.items ?? 0, emit?.options);
		ids[index] = await lab.client.createWorkflow(workflow);
		await lab.client.activateWorkflow(ids[index]);
	});
	return ids;
}

/** Deactivates the workflows a step created. */
export async function deactivateAll(lab: Lab, ids: string[]): Promise<void> {
	await inParallel(ids, API_PARALLEL, async (id) => await lab.client.deactivateWorkflow(id));
}

/** n8n with `count` active do-nothing triggers: its own cost per active workflow. */
async function floor(context: BenchContext, count: number, idleS: number): Promise<ScaleStep> {
	const { lab, log } = context;
	const ids = await createFloor(lab, count);
	try {
		await lab.restartN8n();
		await sleep(FLOOR_ACTIVATION_WAIT_MS);
		const result = { side: 'baseline' as const, triggers: count, ...(await idle(lab, idleS)) };
		log(`scale floor ×${count}: RSS ${result.rssMb} MB, idle CPU ${result.idleCpuMsPerS} ms/s`);
		return result;
	} finally {
		await deactivateAll(lab, ids);
	}
}

/** One side at one count, in a fresh n8n. */
async function step(
	context: BenchContext,
	side: Side,
	count: number,
	sizes: ScaleSizes,
	credentials: Map<string, CredentialRef>,
): Promise<ScaleStep> {
	const { lab, log } = context;
	const addresses = extraInboxAddresses({ ...INBOX_SETS[side], count });
	const ids = await createTriggers(context, side, addresses, credentials);
	const largest = count === Math.max(...sizes.counts);
	try {
		await untilAllPublished(lab, count);
		let startedAtMs = 0;
		let logOffset = 0;
		await lab.restartN8n(async () => {
			logOffset = statSync(lab.sandbox.imapLogFile).size;
			startedAtMs = Date.now();
		});
		const readyAt = Date.now();
		const connected = await allConnected(lab, count, startedAtMs);
		if (connected !== null) await sleep(RUNS_QUIET_MS);
		const result: ScaleStep = {
			side,
			triggers: count,
			startMs: connected === null ? null : connected - startedAtMs,
			readyMs: readyAt - startedAtMs,
			logins: loginsSince(lab, logOffset, INBOX_SETS[side].prefix),
			...(await idle(lab, largest ? sizes.idleS : sizes.shortIdleS)),
		};
		log(
			`scale ${side} ×${count}: all connected ${result.startMs} ms after n8n started (ready after ${result.readyMs}), ${result.logins} logins, RSS ${result.rssMb} MB, idle CPU ${result.idleCpuMsPerS} ms/s`,
		);
		const deliverer = new Deliverer(context.lab.info);
		try {
			const singles = [];
			for (let i = 0; i < sizes.singles; i++) {
				const index = i % count;
				const subject = `scale ${side} ${count} single ${i}`;
				singles.push({
					index,
					subject,
					at: await deliverer.deliver(addresses[index], benchMessage(subject)),
				});
				await sleep(SPACING_MS + Math.random() * 300);
			}
			result.single = await measure(lab, ids, singles);
			if (count >= AT_ONCE) {
				const atOnce = [];
				for (let r = 0; r < sizes.atOnceRounds; r++) {
					const indexes = Array.from({ length: AT_ONCE }, (_, i) => (r * AT_ONCE + i) % count);
					const subject = `scale ${side} ${count} at once ${r}`;
					const at = await deliverer.deliver(
						indexes.map((index) => addresses[index]),
						benchMessage(subject),
					);
					atOnce.push(...indexes.map((index) => ({ index, subject, at })));
					await sleep(AT_ONCE_SPACING_MS);
				}
				result.atOnce = await measure(lab, ids, atOnce);
			}
		} finally {
			deliverer.close();
		}
		if (largest) {
			result.outage = (await outage(lab, ids, addresses)).result;
			log(
				`scale ${side} ×${count} outage: attempts/s ${result.outage.attemptsPerSecond.join(',')}, all back after ${result.outage.allBackMs} ms, lost ${result.outage.waiting.lost}, duplicates ${result.outage.waiting.duplicates}`,
			);
		}
		return result;
	} finally {
		await deactivateAll(lab, ids);
	}
}

/** n8n's trigger logs in as the inbox itself: one IMAP credential per inbox, by address. */
export async function builtinCredentials(
	lab: Lab,
	count: number,
): Promise<Map<string, CredentialRef>> {
	const credentials = new Map<string, CredentialRef>();
	const builtinInboxes = extraInboxAddresses({ ...INBOX_SETS.builtin, count });
	await inParallel(builtinInboxes, API_PARALLEL, async (address) => {
		const name = `IMAP ${address}`;
		const id = await lab.client.createCredential(
			name,
			'imap',
			imapCredentialData(lab.info, address),
		);
		credentials.set(address, { id, name });
	});
	return credentials;
}

export async function scale(context: BenchContext, sizes: ScaleSizes): Promise<ScaleStep[]> {
	const { lab, log } = context;
	const max = Math.max(...sizes.counts);
	const credentials = await builtinCredentials(lab, max);
	await lab.restartN8n();
	const alone = { side: 'none' as const, triggers: 0, ...(await idle(lab, sizes.idleS)) };
	log(`scale: n8n alone RSS ${alone.rssMb} MB, idle CPU ${alone.idleCpuMsPerS} ms/s`);
	const steps: ScaleStep[] = [alone, await floor(context, max, sizes.idleS)];
	for (const count of sizes.counts) {
		for (const side of ['ours', 'builtin'] as const) {
			steps.push(await step(context, side, count, sizes, credentials));
		}
	}
	return steps;
}
