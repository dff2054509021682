/**
 * What the long-running servers of the n8n setups (n8n itself, and Redis and PostgreSQL for
 * queue mode) share: started with their output in a log file, watched until they are ready,
 * stopped with a signal and, when that is not enough, killed.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { ChildProcess } from 'node:child_process';
import {
	accessSync,
	closeSync,
	constants,
	existsSync,
	openSync,
	readFileSync,
	statSync,
} from 'node:fs';
import path from 'node:path';

import { signalProcess, startProcess } from '../sandbox/processes';

/** After SIGKILL the process is gone at once. */
const KILL_TIMEOUT_MS = 5_000;
/** Lines of a log shown when a server fails to start. */
const LOG_TAIL_LINES = 40;

/** The last `lines` lines of a text file ('' when it does not exist). */
export function tailOf(file: string, lines = LOG_TAIL_LINES): string {
	if (!existsSync(file)) return '';
	return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

/** Whether `promise` settles within `ms` (its timer does not outlive the answer). */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
	let timer: NodeJS.Timeout | undefined;
	const timeout = new Promise<boolean>((resolve) => {
		timer = setTimeout(() => resolve(false), ms);
	});
	const settled = await Promise.race([promise.then(() => true), timeout]);
	clearTimeout(timer);
	return settled;
}

/** Options of {@link startLogged}. */
export interface StartLoggedOptions {
	/** What it is, for error messages (e.g. `redis-server`). */
	what: string;
	/** stdout and stderr are appended here. */
	logFile: string;
	cwd?: string;
	env?: NodeJS.ProcessEnv;
	/** Run as this user and group (root only). */
	uid?: number;
	gid?: number;
	/**
	 * A process group of its own, so that a stop can kill the process and its children together
	 * (and a Ctrl-C in the terminal does not reach it before its owner).
	 */
	detached?: boolean;
	/** Signal that asks it to shut down; default SIGTERM. */
	stopSignal?: NodeJS.Signals;
	/** How long a shutdown may take before SIGKILL. */
	stopTimeoutMs: number;
}

/** A started server process. */
export interface LoggedProcess {
	readonly pid: number;
	readonly logFile: string;
	/** Settles when the process has ended, with how it ended (e.g. `exit code 1`). */
	readonly exited: Promise<string>;
	/** How it ended, or undefined while it runs. */
	exitStatus(): string | undefined;
	/** The stop signal, then waits for the exit (SIGKILL after a timeout). Safe to call twice. */
	stop(): Promise<void>;
	/** The end of its log, for error messages. */
	logTail(lines?: number): string;
}

/** Starts a server process with its output appended to a log file. */
export function startLogged(
	command: string,
	args: readonly string[],
	options: StartLoggedOptions,
): LoggedProcess {
	const logFd = openSync(options.logFile, 'a');
	let child: ChildProcess;
	try {
		child = startProcess(command, args, {
			cwd: options.cwd,
			env: options.env,
			uid: options.uid,
			gid: options.gid,
			stdio: ['ignore', logFd, logFd],
			detached: options.detached ?? false,
		});
	} finally {
		closeSync(logFd);
	}
	const pid = child.pid;
	if (pid === undefined) throw new Error(`could not start ${options.what} (${command})`);

	let status: string | undefined;
	const exited = new Promise<string>((resolve) => {
		child.once('exit', (code, signal) => {
			status = signal ? `signal ${signal}` : `exit code ${code}`;
			resolve(status);
		});
	});
	let stopping: Promise<void> | undefined;
	const stop = async (): Promise<void> => {
		stopping ??= (async () => {
			if (status !== undefined) return;
			signalProcess(pid, options.stopSignal ?? 'SIGTERM');
			if (await settlesWithin(exited, options.stopTimeoutMs)) return;
			// With a group of its own, its children (e.g. n8n's task runner) go with it.
			signalProcess(options.detached ? -pid : pid, 'SIGKILL');
			await settlesWithin(exited, KILL_TIMEOUT_MS);
		})();
		await stopping;
	};
	return {
		pid,
		logFile: options.logFile,
		exited,
		exitStatus: () => status,
		stop,
		logTail: (lines = LOG_TAIL_LINES) => tailOf(options.logFile, lines),
	};
}

/** Options of {@link waitUntilReady}. */
export interface WaitReadyOptions {
	/** What it is, for error messages. */
	what: string;
	/** Says whether the server is ready now. */
	probe: () => Promise<boolean>;
	timeoutMs: number;
	/** Pause between two probes. */
	pollIntervalMs: number;
}

/**
 * Probes until the server is ready. Throws with the end of its log when it ended before, or
 * when it was not ready in time (it is then stopped).
 */
export async function waitUntilReady(
	server: LoggedProcess,
	options: WaitReadyOptions,
): Promise<void> {
	const deadline = Date.now() + options.timeoutMs;
	for (;;) {
		if (await options.probe()) return;
		const status = server.exitStatus();
		if (status !== undefined) {
			throw new Error(
				`${options.what} ended (${status}) before it was ready; ${server.logFile}:\n${server.logTail()}`,
			);
		}
		if (Date.now() > deadline) {
			await server.stop();
			throw new Error(
				`${options.what} was not ready within ${options.timeoutMs} ms; ${server.logFile}:\n${server.logTail()}`,
			);
		}
		await sleep(options.pollIntervalMs);
	}
}

/**
 * The first of `candidates` that exists and is executable: absolute paths as they are, bare
 * names looked up in $PATH. Undefined when none is there.
 */
export function findExecutable(candidates: readonly string[]): string | undefined {
	const folders = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean);
	for (const candidate of candidates) {
		const paths = path.isAbsolute(candidate)
			? [candidate]
			: folders.map((folder) => path.join(folder, candidate));
		const found = paths.find((file) => isExecutable(file));
		if (found) return found;
	}
	return undefined;
}

function isExecutable(file: string): boolean {
	try {
		accessSync(file, constants.X_OK);
		return statSync(file).isFile();
	} catch {
		return false;
	}
}
