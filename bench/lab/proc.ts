/**
 * What a process costs, read from /proc: CPU time and resident memory, sampled while something
 * runs. Linux only, which is what the bench runs on.
 */
import { readFileSync } from 'node:fs';

/** Linux's USER_HZ: /proc reports CPU times in these ticks. */
const TICKS_PER_SECOND = 100;
/** How often the memory sampler looks; a parse of a 10 MB message takes far longer. */
const RSS_SAMPLE_MS = 5;

/** User + system CPU time so far, in ms, of a process or (with `tid`) one of its threads. */
export function cpuMs(pid: number, tid?: number): number {
	const file = tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`;
	const stat = readFileSync(file, 'utf8');
	// Fields after the command name (which may hold spaces) start after the last ')'.
	const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
	const utime = Number(fields[11]);
	const stime = Number(fields[12]);
	return ((utime + stime) * 1000) / TICKS_PER_SECOND;
}

/** CPU time of the whole machine so far, all cores, in ms: busy and in all. */
export function machineCpuMs(): { busy: number; all: number } {
	const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
	// "cpu  user nice system idle iowait irq softirq steal guest guest_nice"; guest time is
	// already counted in user, so only the first eight fields add up.
	const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number);
	const all = ticks.reduce((sum, value) => sum + value, 0);
	const idle = ticks[3] + ticks[4];
	return { busy: ((all - idle) * 1000) / TICKS_PER_SECOND, all: (all * 1000) / TICKS_PER_SECOND };
}

/**
 * One reading of the sampler: [time, the process's CPU ms, its main thread's CPU ms (Node's
 * JavaScript thread), the machine's busy CPU ms, the machine's CPU ms in all].
 */
export type CpuSample = [number, number, number, number, number];

function cpuSample(pid: number): CpuSample {
	const machine = machineCpuMs();
	// A process's main thread has the process's id.
	return [Date.now(), cpuMs(pid), cpuMs(pid, pid), machine.busy, machine.all];
}

/**
 * What the samples say about the window from the last sample at or before `since` (the first
 * sample if none is, or without `since`) to the first one at or after `until` (the last one if
 * none is): its length, the process's and its main thread's CPU in it (ms), and how busy the
 * whole machine was (percent of all cores).
 */
export function cpuWindow(
	samples: CpuSample[],
	until: number,
	since?: number,
): { windowMs: number; processMs: number; mainThreadMs: number; machineBusyPercent: number } {
	const start =
		since === undefined ? samples[0] : (samples.filter(([t]) => t <= since).pop() ?? samples[0]);
	const end = samples.find(([t]) => t >= until) ?? samples[samples.length - 1];
	return {
		windowMs: end[0] - start[0],
		processMs: end[1] - start[1],
		mainThreadMs: end[2] - start[2],
		machineBusyPercent: (100 * (end[3] - start[3])) / (end[4] - start[4]),
	};
}

/** Reads a process's CPU time every `everyMs` until stopped. */
export function sampleCpu(pid: number, everyMs: number): { samples: CpuSample[]; stop(): void } {
	const samples: CpuSample[] = [cpuSample(pid)];
	const timer = setInterval(() => samples.push(cpuSample(pid)), everyMs);
	return { samples, stop: () => clearInterval(timer) };
}

/** Resident memory of a process now, in bytes. */
export function rssBytes(pid: number): number {
	return statusBytes(pid, 'VmRSS');
}

/** A memory field of /proc/<pid>/status in bytes: VmRSS now, VmHWM the peak RSS so far. */
export function statusBytes(pid: number, field: 'VmRSS' | 'VmHWM'): number {
	const status = readFileSync(`/proc/${pid}/status`, 'utf8');
	const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(status);
	if (!match) throw new Error(`no ${field} for pid ${pid}`);
	return Number(match[1]) * 1024;
}

/** RSS now, or undefined once the process has ended (a zombie's status has no VmRSS). */
function rssIfAlive(pid: number): number | undefined {
	try {
		return rssBytes(pid);
	} catch {
		return undefined;
	}
}

/**
 * Samples a process's RSS until stopped; reports the peak. A process that ends meanwhile ends
 * the sampling with the peak so far: a throw in the timer would end the whole bench run.
 */
export function sampleRss(pid: number): { stop(): { peak: number; samples: number } } {
	let peak = rssBytes(pid);
	let samples = 1;
	const take = (): boolean => {
		const now = rssIfAlive(pid);
		if (now === undefined) return false;
		peak = Math.max(peak, now);
		samples++;
		return true;
	};
	const timer = setInterval(() => {
		if (!take()) clearInterval(timer);
	}, RSS_SAMPLE_MS);
	return {
		stop() {
			clearInterval(timer);
			take();
			return { peak, samples };
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
