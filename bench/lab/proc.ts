/**
 * What a process costs, read from /proc: CPU time and resident memory, sampled while something
 * runs. Linux only, which is what the bench runs on.
 */
import { readFileSync } from 'node:fs';

/** Linux's USER_HZ: /proc reports CPU times in these ticks. */
const TICKS_PER_SECOND = 100;
/** How often the memory sampler looks; a parse of a 10 MB message takes far longer. */
const RSS_SAMPLE_MS = 5;

/** User + system CPU time of a process so far, in ms. */
export function cpuMs(pid: number): number {
	const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
	// Fields after the command name (which may hold spaces) start after the last ')'.
	const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
	const utime = Number(fields[11]);
	const stime = Number(fields[12]);
	return ((utime + stime) * 1000) / TICKS_PER_SECOND;
}

/** Reads a process's CPU time every `everyMs` until stopped: samples of [time, CPU ms]. */
export function sampleCpu(
	pid: number,
	everyMs: number,
): { samples: Array<[number, number]>; stop(): void } {
	const samples: Array<[number, number]> = [[Date.now(), cpuMs(pid)]];
	const timer = setInterval(() => samples.push([Date.now(), cpuMs(pid)]), everyMs);
	return { samples, stop: () => clearInterval(timer) };
}

/** Resident memory of a process now, in bytes. */
export function rssBytes(pid: number): number {
	const status = readFileSync(`/proc/${pid}/status`, 'utf8');
	const match = /VmRSS:\s+(\d+) kB/.exec(status);
	if (!match) throw new Error(`no VmRSS for pid ${pid}`);
	return Number(match[1]) * 1024;
}

/** Samples a process's RSS until stopped; reports the peak. */
export function sampleRss(pid: number): { stop(): { peak: number; samples: number } } {
	let peak = rssBytes(pid);
	let samples = 1;
	const timer = setInterval(() => {
		peak = Math.max(peak, rssBytes(pid));
		samples++;
	}, RSS_SAMPLE_MS);
	return {
		stop() {
			clearInterval(timer);
			peak = Math.max(peak, rssBytes(pid));
			return { peak, samples: samples + 1 };
		},
	};
}

/** The p-th percentile (0-100) of numbers, nearest-rank. */
export function percentile(values: number[], p: number): number {
	if (values.length === 0) return NaN;
	const sorted = [...values].sort((a, b) => a - b);
	const rank = Math.ceil((p / 100) * sorted.length);
	return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

export function median(values: number[]): number {
	return percentile(values, 50);
}
