/**
 * `npm run bench`: our nodes side by side with n8n's own email nodes and with the floors, in one
 * run, in one real n8n against one sandbox. Writes bench/results/latest.json, the generated part
 * of BENCHMARKS.md and docs/bench.png.
 *
 * `npm run bench -- --quick` runs every phase small (a check that the bench works, not a
 * measurement; nothing is written); `--only=latency,send` runs some phases (latency, burst,
 * burst-pace, memory, send, recovery, reply, scale, scale-timeline, inbox; `--scale-idle=S` shortens the
 * scale phase's 10-minute idle window); `--report-only` redraws BENCHMARKS.md and the plot from
 * bench/results/latest.json.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { startLab } from './lab/lab';
import {
	BURST_PACES,
	batchedBurst,
	loadedN8nAloneBurst,
	pacedN8nAloneBurst,
	n8nAloneBurst,
	perMessageRate,
} from './phases/burst';
import type { BenchContext } from './phases/common';
import { latency, n8nAloneLatency } from './phases/latency';
import { memory } from './phases/memory';
import { inbox, inboxBenchInboxes, type InboxSizes } from './phases/inbox';
import { recovery } from './phases/recovery';
import { reply } from './phases/reply';
import { scale, scaleInboxes, type ScaleSizes } from './phases/scale';
import { scaleTimeline } from './phases/scaleTimeline';
import { send } from './phases/send';
import { PHASE_RESULT_KEYS, writeReport, type BenchResults } from './report';
import { runScript } from './lab/script';

const PROJECT_ROOT = path.resolve(__dirname, '..');
const RESULTS_FILE = path.join(PROJECT_ROOT, 'bench', 'results', 'latest.json');

/** Sizes of a full run and of a quick check. */
const SIZES = {
	full: {
		singles: 200,
		burst: 1000,
		memoryRounds: 4,
		send: 200,
		sendRounds: 3,
		recoveryRounds: 3,
		replyRounds: 20,
	},
	quick: {
		singles: 5,
		burst: 60,
		memoryRounds: 1,
		send: 20,
		sendRounds: 1,
		recoveryRounds: 1,
		replyRounds: 3,
	},
};
/**
 * The scale phase's sizes: 1, 50 and 200 triggers per side, idling 10 minutes at 200 and for
 * n8n alone (per-trigger CPU is read there; 1 minute at the smaller counts).
 * `--scale-idle=S` shortens the long window (reported with the results).
 */
const SCALE_SIZES: Record<'full' | 'quick', ScaleSizes> = {
	full: { counts: [1, 50, 200], idleS: 600, shortIdleS: 60, singles: 20, atOnceRounds: 3 },
	quick: { counts: [1, 20], idleS: 20, shortIdleS: 10, singles: 3, atOnceRounds: 1 },
};

function packageVersion(): string {
	const manifest = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as {
		version: string;
	};
	return manifest.version;
}

/**
 * The inbox phase's sizes: Get Many on folders of 2,000 and 20,000 messages, 5
 * runs per operation; a quick check uses small folders.
 */
const INBOX_SIZES: Record<'full' | 'quick', InboxSizes> = {
	full: { folderSizes: [2_000, 20_000], rounds: 5, limit: 50, matches: 5 },
	quick: { folderSizes: [200, 1_000], rounds: 1, limit: 50, matches: 5 },
};

const PHASE_KEYS = Object.values(PHASE_RESULT_KEYS).flat();

function phaseResults(results: BenchResults): Partial<BenchResults> {
	return Object.fromEntries(
		PHASE_KEYS.filter((key) => results[key] !== undefined).map((key) => [key, results[key]]),
	);
}

function say(line: string): void {
	process.stdout.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

async function main(): Promise<void> {
	if (process.argv.includes('--report-only')) {
		// Redraw BENCHMARKS.md and the plot from the last full run, without measuring again.
		const saved = JSON.parse(readFileSync(RESULTS_FILE, 'utf8')) as BenchResults;
		await writeReport(saved, PROJECT_ROOT, say);
		return;
	}
	const quick = process.argv.includes('--quick');
	const only = process.argv.find((arg) => arg.startsWith('--only='))?.slice('--only='.length);
	const size = quick ? SIZES.quick : SIZES.full;
	const wanted = (phase: string) => !only || only.split(',').includes(phase);
	const started = new Date();
	const idleArg = process.argv.find((arg) => arg.startsWith('--scale-idle='));
	const scaleSizes = {
		...SCALE_SIZES[quick ? 'quick' : 'full'],
		...(idleArg ? { idleS: Number(idleArg.slice('--scale-idle='.length)) } : {}),
	};
	const inboxSizes = INBOX_SIZES[quick ? 'quick' : 'full'];
	const lab = await startLab({
		name: 'agentmail-bench',
		log: say,
		extraInboxes: [
			...(wanted('scale') || wanted('scale-timeline')
				? scaleInboxes(Math.max(...scaleSizes.counts))
				: []),
			...(wanted('inbox') ? inboxBenchInboxes(inboxSizes) : []),
		],
	});
	const context: BenchContext = { lab, log: say };
	const results: BenchResults = {
		date: started.toISOString(),
		command: `npm run bench${process.argv.slice(2).length ? ' -- ' + process.argv.slice(2).join(' ') : ''}`,
		machine: {
			cpus: os.cpus().length,
			cpuModel: os.cpus()[0]?.model ?? 'unknown',
			memoryGb: Math.round(os.totalmem() / 1024 ** 3),
			benchNode: process.version,
		},
		versions: { ...lab.versions, package: packageVersion() },
		sizes: size,
	};
	// Each phase's results, in the order the phases run; what one returns is kept as soon as it
	// has ended, so that a later phase's failure does not lose it.
	const phases: Array<[string, () => Promise<Partial<BenchResults>>]> = [
		[
			'latency',
			async () => {
				const sides = [];
				for (const side of ['ours', 'builtin'] as const) {
					sides.push(await latency(context, side, size.singles));
				}
				return {
					latency: sides,
					latencyN8nAlone: [
						await n8nAloneLatency(context, size.singles),
						await n8nAloneLatency(context, size.singles, { savePosition: true }),
						await n8nAloneLatency(context, size.singles, {
							savePosition: true,
							withCredential: true,
						}),
					],
				};
			},
		],
		[
			'burst',
			async () => {
				const burst = [];
				for (const side of ['ours', 'builtin'] as const) {
					burst.push(await batchedBurst(context, side, size.burst));
				}
				const ours = burst.find((side) => side.side === 'ours');
				return {
					burst,
					burstN8nAlone: await n8nAloneBurst(context, size.burst),
					...(ours
						? {
								burstN8nAlonePaced: await pacedN8nAloneBurst(context, size.burst, ours.deliveryMs),
								burstN8nAloneLoaded: await loadedN8nAloneBurst(
									context,
									size.burst,
									ours.deliveryMs,
								),
							}
						: {}),
					perMessage: await perMessageRate(context, size.burst),
				};
			},
		],
		[
			'burst-pace',
			async () => {
				const burstPaced = [];
				for (const perSecond of BURST_PACES) {
					for (const side of ['ours', 'builtin'] as const) {
						burstPaced.push(await batchedBurst(context, side, size.burst, perSecond));
					}
				}
				return { burstPaced };
			},
		],
		['memory', async () => ({ memory: await memory(context, size.memoryRounds) })],
		['send', async () => ({ send: await send(context, size.send, size.sendRounds) })],
		['recovery', async () => ({ recovery: await recovery(context, size.recoveryRounds) })],
		['reply', async () => ({ reply: await reply(context, size.replyRounds, results.latency) })],
		[
			'scale',
			async () => ({ scale: { sizes: scaleSizes, steps: await scale(context, scaleSizes) } }),
		],
		[
			'scale-timeline',
			async () => ({
				scaleTimeline: await scaleTimeline(context, Math.max(...scaleSizes.counts)),
			}),
		],
		['inbox', async () => ({ inbox: await inbox(context, inboxSizes) })],
	];
	const finished: string[] = [];
	try {
		for (const [phase, run] of phases) {
			if (!wanted(phase)) continue;
			Object.assign(results, await run());
			finished.push(phase);
		}
	} catch (error) {
		// The phases that ended are saved as a run of those phases alone, then the failure shows.
		if (!quick && finished.length) {
			say(`phase failed; saving what ${finished.join(', ')} measured`);
			await save(phaseSubset(results, finished), finished.join(','));
		}
		throw error;
	} finally {
		await lab.stop();
	}
	results.durationS = Math.round((Date.now() - started.getTime()) / 1000);
	if (quick) {
		const file = path.join(os.tmpdir(), 'agentmail-bench-quick.json');
		await writeFile(file, JSON.stringify(results, null, '\t') + '\n');
		say(`quick check done in ${results.durationS} s; results in ${file} (BENCHMARKS.md untouched)`);
		return;
	}
	await save(results, only);
}

/** The results of the given phases only, with the run's description. */
function phaseSubset(results: BenchResults, phases: string[]): BenchResults {
	const { date, command, machine, versions, sizes } = results;
	const kept = new Set<string>(phases.flatMap((phase) => PHASE_RESULT_KEYS[phase] ?? []));
	const measured = Object.fromEntries(
		Object.entries(phaseResults(results)).filter(([key]) => kept.has(key)),
	);
	return { date, command, machine, versions, sizes, ...measured } as BenchResults;
}

/**
 * Writes the results and redraws the report. With `only` (some phases), their results replace
 * those of the last full run and the rest stays.
 */
async function save(results: BenchResults, only: string | undefined): Promise<void> {
	await mkdir(path.join(PROJECT_ROOT, 'bench', 'results'), { recursive: true });
	if (only && existsSync(RESULTS_FILE)) {
		const saved = JSON.parse(readFileSync(RESULTS_FILE, 'utf8')) as BenchResults;
		const rerun = {
			phases: only,
			date: results.date,
			command: results.command,
			n8n: results.versions.n8n,
		};
		// An earlier re-run whose phases all ran again has no numbers left in the results.
		const phases = new Set(only.split(','));
		const kept = (saved.reruns ?? []).filter(
			(earlier) => !earlier.phases.split(',').every((phase) => phases.has(phase)),
		);
		results = { ...saved, ...phaseResults(results), reruns: [...kept, rerun] };
	}
	await writeFile(RESULTS_FILE, JSON.stringify(results, null, '\t') + '\n');
	await writeReport(results, PROJECT_ROOT, say);
}

runScript('bench', main);
