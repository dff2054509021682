/**
 * The goals against n8n's own Email Trigger (IMAP) and against n8n's own cost per run, judged
 * from numbers measured in the same bench run: CPU per message in the burst, latency over the
 * IDLE floor message by message, and the one-run-per-message catch-up beside empty runs.
 */
import { percentile } from '../lab/proc';
import type { BurstSide, RateResult } from './burst';
import type { LatencySide } from './latency';

/** A row of the generated targets table: the goal, what was measured, met or not (null: no verdict). */
export type Target = [string, string, boolean | null];

/** The catch-up may take at most this many times as long as n8n's own empty runs. */
export const CATCH_UP_LIMIT = 1.05;

/** The rival's name in a goal, with the n8n version it was measured in. */
function rivalName(n8nVersion: string): string {
	return `n8n ${n8nVersion}'s Email Trigger`;
}

function ms(value: number): string {
	return `${Math.round(value)} ms`;
}

/**
 * Each message's run start less when the floor heard of it, p50 and max; only when every
 * message both started a run and was heard by the floor (the two lists are then in step).
 */
export function overFloor(side: LatencySide): { p50: number; max: number } | undefined {
	if (side.run.length !== side.messages || side.floor.length !== side.messages) return undefined;
	const over = side.run.map((run, i) => run - side.floor[i]).sort((a, b) => a - b);
	return { p50: percentile(over, 50), max: over[over.length - 1] };
}

/** Latency over the IDLE floor, message by message, p50 and max: ours at most the rival's. */
export function latencyGoals(latency: LatencySide[], n8nVersion: string): Target[] {
	const rivalLabel = rivalName(n8nVersion);
	const ours = latency.find((side) => side.side === 'ours');
	const rival = latency.find((side) => side.side === 'builtin');
	if (!ours || !rival) return [];
	const oursOver = overFloor(ours);
	const rivalOver = overFloor(rival);
	return (['p50', 'max'] as const).map((key): Target => {
		const goal = `Latency over the IDLE floor, message by message, ${key}: at most ${rivalLabel}'s`;
		if (!oursOver) return [goal, `ours missed ${ours.missing} message(s)`, false];
		if (!rivalOver) {
			const heard = `ours +${ms(oursOver[key])}; ${rivalLabel} missed ${rival.missing} message(s), so it has no ${key} to compare`;
			return [goal, heard, null];
		}
		return [
			goal,
			`ours +${ms(oursOver[key])}, ${rivalLabel} +${ms(rivalOver[key])}`,
			oursOver[key] <= rivalOver[key],
		];
	});
}

/** n8n's CPU per message in the batched burst: ours at most the rival's. */
export function burstCpuGoal(ours: BurstSide, rival: BurstSide, n8nVersion: string): Target {
	const rivalLabel = rivalName(n8nVersion);
	const oursPer = ours.cpuMs / ours.messages;
	const rivalPer = rival.cpuMs / rival.messages;
	return [
		`Burst: n8n CPU per message at most ${rivalLabel}'s`,
		`${oursPer.toFixed(1)} vs ${rivalPer.toFixed(1)} ms per message (${(oursPer / rivalPer).toFixed(2)}×; ${ms(ours.cpuMs)} vs ${ms(rival.cpuMs)} for ${ours.messages} and ${rival.messages})`,
		oursPer <= rivalPer,
	];
}

/** The one-run-per-message catch-up, first run start → last run end, beside n8n's empty runs. */
export function catchUpGoal(perMessage: RateResult[]): Target[] {
	const ours = perMessage.find((entry) => entry.what === 'ours');
	const empty = perMessage.find((entry) => entry.what === 'baseline');
	if (!ours || !empty) return [];
	const ratio = ours.wallMs / empty.wallMs;
	const complete = ours.missing === 0 && ours.duplicates === 0;
	return [
		[
			`Catch-up of ${empty.runs.toLocaleString('en-US')} messages, one run per message, first run start → last run end: within ${CATCH_UP_LIMIT}× of as many empty runs (n8n alone)`,
			`${ms(ours.wallMs)} vs ${ms(empty.wallMs)} (${ratio.toFixed(2)}×)` +
				(complete ? '' : `; ${ours.missing} missing, ${ours.duplicates} twice`),
			ratio <= CATCH_UP_LIMIT && complete,
		],
	];
}
