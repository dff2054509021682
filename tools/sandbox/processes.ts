/**
 * The one place where the sandbox starts operating-system processes (openssl, dovecot, doveadm,
 * apt-get). The package's lint forbids child_process because community-node code must not spawn
 * processes; this folder is test tooling that is never published, so the rule is switched off
 * call by call below, each time with the reason.
 */
import { spawn, type ChildProcess, type SpawnOptions, type StdioOptions } from 'node:child_process';

/** What a finished command left behind. */
export interface CommandResult {
	/** Exit code, or null when a signal ended it. */
	code: number | null;
	signal: NodeJS.Signals | null;
	stdout: Buffer;
	stderr: Buffer;
}

/** Options of {@link runCommand}. */
export interface RunCommandOptions {
	/** Written to the command's stdin (a socket pair, not a pipe, in Node), which is then closed. */
	input?: Buffer | string;
	/** The command is killed (SIGKILL) and the promise rejects after this many milliseconds. */
	timeoutMs: number;
	env?: NodeJS.ProcessEnv;
	/** Let the command's output through to this process's stdout/stderr instead of collecting it. */
	inheritOutput?: boolean;
	/** Working folder; default this process's. */
	cwd?: string;
	/** Run as this user and group (root only), e.g. a server that refuses to run as root. */
	uid?: number;
	gid?: number;
}

/**
 * Runs a command to its end. Resolves with its exit status and output whatever the status;
 * rejects only when it cannot be started or runs past `timeoutMs`.
 */
export async function runCommand(
	command: string,
	args: readonly string[],
	options: RunCommandOptions,
): Promise<CommandResult> {
	return await new Promise<CommandResult>((resolve, reject) => {
		const output = options.inheritOutput ? 'inherit' : 'pipe';
		const stdio: StdioOptions = ['pipe', output, output];
		const { env, cwd, uid, gid } = options;
		// eslint-disable-next-line @n8n/community-nodes/no-dangerous-functions -- test tooling (never shipped) runs fixed binaries with argument arrays
		const child: ChildProcess = spawn(command, args, { env, cwd, uid, gid, stdio });
		const stdout: Buffer[] = [];
		const stderr: Buffer[] = [];
		child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
		child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
		const timer = setTimeout(() => {
			child.kill('SIGKILL');
			reject(
				new Error(`${command} ${args.join(' ')} did not finish within ${options.timeoutMs} ms`),
			);
		}, options.timeoutMs);
		child.on('error', (error) => {
			clearTimeout(timer);
			reject(error);
		});
		child.on('close', (code, signal) => {
			clearTimeout(timer);
			resolve({ code, signal, stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr) });
		});
		// A command that exits before reading all its input makes the write fail with EPIPE; the
		// exit status and output then tell what happened, so the write error itself is not news.
		child.stdin?.on('error', () => undefined);
		child.stdin?.end(options.input ?? '');
	});
}

/** Starts a long-running process and hands it back as is; the caller owns its life. */
export function startProcess(
	command: string,
	args: readonly string[],
	options: SpawnOptions,
): ChildProcess {
	// eslint-disable-next-line @n8n/community-nodes/no-dangerous-functions -- test tooling (never shipped) supervises Dovecot and the background sandbox
	return spawn(command, args, options);
}

/** Whether a process with this pid exists (it may belong to another user). */
export function processAlive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch (error) {
		// EPERM: it exists but belongs to someone else.
		return (error as NodeJS.ErrnoException).code === 'EPERM';
	}
}

/** Sends a signal and ignores a process that is already gone. */
export function signalProcess(pid: number, signal: NodeJS.Signals): void {
	let failure: NodeJS.ErrnoException | undefined;
	try {
		process.kill(pid, signal);
	} catch (error) {
		failure = error as NodeJS.ErrnoException;
	}
	// ESRCH: it ended on its own in the meantime, which is what the caller wanted anyway.
	if (failure && failure.code !== 'ESRCH') throw failure;
}
