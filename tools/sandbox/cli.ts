/**
 * Command line for the AgentMail sandbox (see package.json scripts):
 *   run [--profile NAME]      start it in the foreground; Ctrl-C / SIGTERM stops it
 *   start [--profile NAME]    start it in the background (output in <dir>/sandbox.log)
 *   stop                      stop the background sandbox
 *   deliver --to <inbox> <file.eml>...   deliver raw messages over LMTP like an outside sender
 * The folder is $AGENTMAIL_SANDBOX_DIR, else <project root>/.sandbox; the profile (which servers
 * it stands for, tools/sandbox/profiles.ts) is --profile, else $AGENTMAIL_SANDBOX_PROFILE, else dovecot.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { closeSync, existsSync, openSync, readFileSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';

import { portAnswers } from './ports';
import { processAlive, signalProcess, startProcess } from './processes';
import { resolveProfile, SANDBOX_PROFILES } from './profiles';
import {
	deliver,
	readSandboxInfo,
	SANDBOX_FILES,
	sandboxDir,
	startSandbox,
	type SandboxInfo,
} from './sandbox';

/** A first start may install Dovecot with apt-get and make the TLS files first. */
const BACKGROUND_START_TIMEOUT_MS = 5 * 60_000;
/** The sandbox stops in about a second; Dovecot's own stop timeout is 10 s. */
const BACKGROUND_STOP_TIMEOUT_MS = 30_000;
/** Pause between two looks at the background process. */
const POLL_INTERVAL_MS = 100;
/** Lines of sandbox.log shown when the background sandbox fails to start. */
const LOG_TAIL_LINES = 30;

const USAGE = `usage: tsx tools/sandbox/cli.ts <command>
  run [--profile NAME]                  run the sandbox in the foreground (Ctrl-C stops it)
  start [--profile NAME]                run it in the background, output in <dir>/sandbox.log
  stop                                  stop the background sandbox
  deliver --to <inbox> <file.eml>...    deliver raw messages over LMTP (as an outside sender)
The sandbox folder is $AGENTMAIL_SANDBOX_DIR, else <project root>/.sandbox.
Profiles (default $AGENTMAIL_SANDBOX_PROFILE, else dovecot):
${Object.entries(SANDBOX_PROFILES)
	.map(([name, setup]) => `  ${name.padEnd(38)}${setup.description}`)
	.join('\n')}
`;

function say(line = ''): void {
	process.stdout.write(line + '\n');
}

/** The pid of the live process holding the sandbox folder, if any. */
function runningPid(dir: string): number | undefined {
	const file = path.join(dir, SANDBOX_FILES.pid);
	if (!existsSync(file)) return undefined;
	const pid = Number(readFileSync(file, 'utf8').trim());
	return Number.isInteger(pid) && pid > 0 && processAlive(pid) ? pid : undefined;
}

function summary(info: SandboxInfo, infoPath: string): string {
	return [
		`  Profile ${info.profile}: ${SANDBOX_PROFILES[info.profile]?.description ?? '?'}`,
		`  IMAP   ${info.imap.host}:${info.imap.port}  (TLS on connect)`,
		`  SMTP   ${info.smtp.host}:${info.smtp.implicitTlsPort} (implicit TLS), ${info.smtp.host}:${info.smtp.startTlsPort} (STARTTLS)`,
		`  LMTP   ${info.lmtp.host}:${info.lmtp.port}  (npm run sandbox:deliver -- --to <inbox> <file.eml>)`,
		`  CA     ${info.ca}`,
		`  Inboxes ${info.inboxes.map((inbox) => inbox.address).join(', ')} (API keys in sandbox.json)`,
		`  Outbox ${info.outbox}`,
		`  sandbox.json: ${infoPath}`,
	].join('\n');
}

async function allPortsAnswer(info: SandboxInfo): Promise<boolean> {
	const ports: Array<[string, number]> = [
		[info.imap.host, info.imap.port],
		[info.smtp.host, info.smtp.implicitTlsPort],
		[info.smtp.host, info.smtp.startTlsPort],
		[info.lmtp.host, info.lmtp.port],
	];
	for (const [host, port] of ports) {
		if (!(await portAnswers(host, port))) return false;
	}
	return true;
}

async function run(): Promise<number> {
	const sandbox = await startSandbox();
	say(`AgentMail sandbox running (pid ${process.pid}) in ${sandbox.dir}`);
	say(summary(sandbox.info, sandbox.infoPath));
	say('Ctrl-C stops it.');
	return await new Promise<number>((resolve) => {
		let stopping = false;
		const stop = (signal: NodeJS.Signals) => {
			// A second Ctrl-C while stopping must not start a second stop.
			if (stopping) return;
			stopping = true;
			say(`${signal}: stopping the sandbox`);
			sandbox.stop().then(
				() => {
					say('sandbox stopped');
					resolve(0);
				},
				(error: Error) => {
					process.stderr.write(`stopping the sandbox failed: ${error.message}\n`);
					resolve(1);
				},
			);
		};
		for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, stop);
	});
}

async function start(): Promise<number> {
	const dir = sandboxDir();
	const infoPath = path.join(dir, SANDBOX_FILES.info);
	const already = runningPid(dir);
	if (already !== undefined) {
		say(`The sandbox is already running (pid ${already}) in ${dir}`);
		if (existsSync(infoPath)) say(summary(readSandboxInfo(infoPath), infoPath));
		return 0;
	}
	await mkdir(dir, { recursive: true });
	const logFile = path.join(dir, SANDBOX_FILES.log);
	const log = openSync(logFile, 'a');
	const startedAt = Date.now();
	// The same Node with the same loader flags (tsx's), running this file's `run` command.
	const child = startProcess(process.execPath, [...process.execArgv, __filename, 'run'], {
		detached: true,
		stdio: ['ignore', log, log],
		env: { ...process.env, AGENTMAIL_SANDBOX_DIR: dir },
	});
	closeSync(log);
	child.unref();
	let exitCode: number | null = null;
	child.on('exit', (code, signal) => (exitCode = code ?? (signal ? 1 : 0)));

	const deadline = startedAt + BACKGROUND_START_TIMEOUT_MS;
	for (;;) {
		if (exitCode !== null) {
			const tail = readFileSync(logFile, 'utf8').trim().split('\n').slice(-LOG_TAIL_LINES);
			process.stderr.write(
				`The sandbox did not start (exit code ${exitCode}). ${logFile}:\n${tail.join('\n')}\n`,
			);
			return 1;
		}
		const fresh = existsSync(infoPath) && statSync(infoPath).mtimeMs >= startedAt;
		if (
			fresh &&
			runningPid(dir) === child.pid &&
			(await allPortsAnswer(readSandboxInfo(infoPath)))
		) {
			break;
		}
		if (Date.now() > deadline) {
			signalProcess(child.pid as number, 'SIGTERM');
			process.stderr.write(
				`The sandbox did not come up within ${BACKGROUND_START_TIMEOUT_MS} ms; see ${logFile}\n`,
			);
			return 1;
		}
		await sleep(POLL_INTERVAL_MS);
	}
	say(`AgentMail sandbox started in the background (pid ${child.pid}) in ${dir}`);
	say(summary(readSandboxInfo(infoPath), infoPath));
	say(`Log: ${logFile}. Stop it with: npm run sandbox:stop`);
	return 0;
}

async function stop(): Promise<number> {
	const dir = sandboxDir();
	const pid = runningPid(dir);
	if (pid === undefined) {
		say(`No sandbox is running in ${dir}`);
		return 0;
	}
	signalProcess(pid, 'SIGTERM');
	const deadline = Date.now() + BACKGROUND_STOP_TIMEOUT_MS;
	while (processAlive(pid)) {
		if (Date.now() > deadline) {
			// It hung while stopping; its Dovecot goes down with it (the supervisor sees EOF).
			signalProcess(pid, 'SIGKILL');
			process.stderr.write(
				`The sandbox (pid ${pid}) did not stop within ${BACKGROUND_STOP_TIMEOUT_MS} ms and was killed\n`,
			);
			return 1;
		}
		await sleep(POLL_INTERVAL_MS);
	}
	say(`Sandbox stopped (pid ${pid}) in ${dir}`);
	return 0;
}

async function deliverFiles(args: string[]): Promise<number> {
	let to: string | undefined;
	const files: string[] = [];
	for (let i = 0; i < args.length; i++) {
		if (args[i] === '--to') to = args[++i];
		else if (args[i].startsWith('--to=')) to = args[i].slice('--to='.length);
		else files.push(args[i]);
	}
	if (!to || files.length === 0) {
		process.stderr.write(USAGE);
		return 2;
	}
	const dir = sandboxDir();
	const info = readSandboxInfo(path.join(dir, SANDBOX_FILES.info));
	if (!(await portAnswers(info.lmtp.host, info.lmtp.port))) {
		throw new Error(
			`the sandbox in ${dir} is not running (nothing answers on LMTP ${info.lmtp.host}:${info.lmtp.port}); start it with: npm run sandbox:start`,
		);
	}
	for (const file of files) {
		await deliver(info, to, readFileSync(file));
		say(`Delivered ${file} to ${to}`);
	}
	return 0;
}

/**
 * Takes `--profile NAME` (or `--profile=NAME`) out of the arguments into
 * $AGENTMAIL_SANDBOX_PROFILE, which `start` hands to the background process.
 *
 * @throws Error for a name that is no profile.
 */
function takeProfile(args: string[]): string[] {
	const rest: string[] = [];
	for (let i = 0; i < args.length; i++) {
		const inline = args[i].startsWith('--profile=') ? args[i].slice('--profile='.length) : null;
		if (args[i] !== '--profile' && inline === null) {
			rest.push(args[i]);
			continue;
		}
		const name = inline ?? args[++i] ?? '';
		process.env.AGENTMAIL_SANDBOX_PROFILE = resolveProfile(name || '(none)');
	}
	// Checked here as well when it came from the environment: a typo fails before anything starts.
	resolveProfile();
	return rest;
}

async function main(argv: string[]): Promise<number> {
	const [command, ...options] = argv;
	const rest = command === 'deliver' ? options : takeProfile(options);
	if ((command === 'run' || command === 'start' || command === 'stop') && rest.length > 0) {
		process.stderr.write(USAGE);
		return 2;
	}
	switch (command) {
		case 'run':
			return await run();
		case 'start':
			return await start();
		case 'stop':
			return await stop();
		case 'deliver':
			return await deliverFiles(rest);
		default:
			process.stderr.write(USAGE);
			return 2;
	}
}

main(process.argv.slice(2)).then(
	(code) => process.exit(code),
	(error: Error) => {
		process.stderr.write(`error: ${error.message}\n`);
		process.exit(1);
	},
);
