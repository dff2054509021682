/**
 * `npm run dev`: the package inside a real n8n with a working demo inbox, in one command.
 *
 *   1. builds the package (npm run build);
 *   2. installs the pinned n8n and its Node into .n8n-dev/ (once; later starts reuse it);
 *   3. starts the sandbox in .sandbox/ on its default ports (or reuses one that runs there);
 *   4. starts n8n on http://localhost:5678 with its own user folder .n8n-dev/demo (SQLite),
 *      kept between runs;
 *   5. sets it up once (owner account, AgentMail credential, the demo workflows from
 *      tools/n8n/demo/) and reuses all of that on later starts;
 *   6. prints the editor URL, the login and how to mail the demo inbox, then runs until Ctrl-C,
 *      which stops n8n and the sandbox.
 *
 * With AGENTMAIL_INBOX and AGENTMAIL_API_KEY set, the credential points at the real AgentMail
 * (its default hosts) and no sandbox is started.
 */
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';

import { AGENTMAIL_DEFAULTS } from '../nodes/shared/connection';
import { freePorts, portAnswers } from '../tools/sandbox/ports';
import { processAlive, runCommand } from '../tools/sandbox/processes';
import {
	readSandboxInfo,
	SANDBOX_FILES,
	sandboxDir,
	startSandbox,
	type Sandbox,
	type SandboxInfo,
} from '../tools/sandbox/sandbox';
import { sandboxCredential } from '../tools/sandbox/info';
import {
	AUTO_REPLY_TRIGGER_NODE,
	CREDENTIAL_TYPE,
	DEMO_WORKFLOWS,
	loadDemoWorkflow,
	waitForTriggerStart,
} from '../tools/n8n/demo';
import { installN8n, n8nCacheDir, N8N_VERSION } from '../tools/n8n/install';
import { N8nClient, N8nHttpError, startN8n, type N8nServer } from '../tools/n8n/server';

/** `npm run build` of the package: n8n-node build (tsc and the icons) takes seconds. */
const BUILD_TIMEOUT_MS = 5 * 60_000;
/** The first activation opens the IMAP folder; it takes a second or two. */
const TRIGGER_START_TIMEOUT_MS = 60_000;
/** Lines of a failed build's output that are shown. */
const OUTPUT_TAIL_LINES = 40;

/** The editor's port, as n8n's documentation has it. */
const N8N_PORT = 5678;
const PROJECT_ROOT = path.resolve(__dirname, '..');
/** n8n's user folder for the demo: its database, settings and log; kept between runs. */
const USER_FOLDER = path.join(n8nCacheDir(), 'demo');
/** What the setup created, so that the next start reuses it. */
const STATE_FILE = path.join(USER_FOLDER, 'dev-state.json');

/**
 * The demo's fixed login, printed at the end: not a secret, the instance listens on 127.0.0.1
 * only and holds sandbox data (n8n wants 8+ characters with a digit and a capital).
 */
const DEMO_LOGIN_WORD = 'AgentMail-demo-1';
const OWNER = {
	email: 'demo@agentmail.test',
	password: DEMO_LOGIN_WORD,
	firstName: 'Demo',
	lastName: 'Owner',
};
const SANDBOX_AGENT = 'agent@agentmail.test';
const SANDBOX_PEER = 'peer@agentmail.test';

interface DevState {
	apiKey?: string;
	credentialId?: string;
	workflows?: Partial<Record<keyof typeof DEMO_WORKFLOWS, string>>;
}

function say(line: string): void {
	process.stdout.write(`${line}\n`);
}

function seconds(since: number): string {
	return `${((Date.now() - since) / 1000).toFixed(1)} s`;
}

/** Runs a long step between a start line and an end line with its duration. */
async function step<T>(title: string, work: () => Promise<T>): Promise<T> {
	const started = Date.now();
	say(`▸ ${title} ...`);
	const result = await work();
	say(`  done in ${seconds(started)}`);
	return result;
}

function tail(text: string): string {
	return text.trimEnd().split('\n').slice(-OUTPUT_TAIL_LINES).join('\n');
}

async function build(): Promise<void> {
	const result = await runCommand('npm', ['--prefix', PROJECT_ROOT, 'run', 'build'], {
		timeoutMs: BUILD_TIMEOUT_MS,
	});
	if (result.code !== 0) {
		throw new Error(
			`npm run build failed (exit ${result.code}):\n${tail(result.stdout.toString() + result.stderr.toString())}`,
		);
	}
}

/** The real AgentMail inbox from the environment, if both variables are set. */
function realInbox(): { email: string; apiKey: string } | undefined {
	const email = process.env.AGENTMAIL_INBOX?.trim();
	const apiKey = process.env.AGENTMAIL_API_KEY?.trim();
	return email && apiKey ? { email, apiKey } : undefined;
}

/** A sandbox that another process (e.g. `npm run sandbox:start`) runs in the default folder. */
function runningSandbox(): SandboxInfo | undefined {
	const dir = sandboxDir();
	const pidFile = path.join(dir, SANDBOX_FILES.pid);
	const infoFile = path.join(dir, SANDBOX_FILES.info);
	if (!existsSync(pidFile) || !existsSync(infoFile)) return undefined;
	const pid = Number(readFileSync(pidFile, 'utf8').trim());
	if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || !processAlive(pid)) {
		return undefined;
	}
	return readSandboxInfo(infoFile);
}

function realCredential(inbox: {
	email: string;
	apiKey: string;
}): Record<string, string | number | boolean> {
	return {
		email: inbox.email,
		apiKey: inbox.apiKey,
		imapHost: AGENTMAIL_DEFAULTS.imapHost,
		imapPort: AGENTMAIL_DEFAULTS.imapPort,
		smtpHost: AGENTMAIL_DEFAULTS.smtpHost,
		smtpSecurity: 'ssl',
		smtpPort: AGENTMAIL_DEFAULTS.smtpSslPort,
		smtpStartTlsPort: AGENTMAIL_DEFAULTS.smtpStartTlsPort,
		trustedCa: '',
		allowSelfSigned: false,
	};
}

function readState(): DevState {
	if (!existsSync(STATE_FILE)) return {};
	return JSON.parse(readFileSync(STATE_FILE, 'utf8')) as DevState;
}

async function writeState(state: DevState): Promise<void> {
	// It holds an API key of the demo instance: readable by this user only.
	await writeFile(STATE_FILE, JSON.stringify(state, null, '\t') + '\n', { mode: 0o600 });
}

function isHttpStatus(error: unknown, status: number): boolean {
	return error instanceof N8nHttpError && error.status === status;
}

/** Whether the client's API key is accepted (a made-up workflow id then answers 404). */
async function apiKeyWorks(client: N8nClient): Promise<boolean> {
	return await client.getWorkflow('0').then(
		() => true,
		(error: unknown) => isHttpStatus(error, 404),
	);
}

/** A stored workflow's `active` flag, or undefined when there is no such workflow. */
async function storedWorkflow(client: N8nClient, id: string | undefined) {
	if (!id) return undefined;
	return await client.getWorkflow(id).then(
		(workflow) => ({ active: workflow.active === true }),
		(error: unknown) => {
			if (isHttpStatus(error, 404)) return undefined;
			throw error;
		},
	);
}

/**
 * Owner, API key, credential and workflows: created on the first start, reused on later ones
 * (the credential's data is refreshed, as the sandbox keys or the chosen inbox may differ).
 */
async function setUp(
	client: N8nClient,
	credential: { name: string; data: Record<string, string | number | boolean> },
): Promise<string> {
	const state = readState();
	if (await client.needsOwnerSetup()) {
		say(`  new n8n instance: creating the owner ${OWNER.email}`);
		await client.setupOwner(OWNER);
		delete state.apiKey;
		delete state.credentialId;
		delete state.workflows;
	}
	await client.login(OWNER.email, OWNER.password).then(undefined, (error: unknown) => {
		throw new Error(
			`cannot log in to the demo n8n as ${OWNER.email} (${String(error)}); ` +
				`to start over, stop it and delete ${USER_FOLDER}`,
		);
	});

	if (state.apiKey) client.useApiKey(state.apiKey);
	if (!state.apiKey || !(await apiKeyWorks(client))) {
		state.apiKey = await client.createApiKey('npm run dev');
	}
	await writeState(state);

	const credentialId = state.credentialId;
	const updated = credentialId
		? await client
				.updateCredential(credentialId, credential.name, CREDENTIAL_TYPE, credential.data)
				.then(
					() => true,
					(error: unknown) => {
						if (isHttpStatus(error, 404)) return false;
						throw error;
					},
				)
		: false;
	if (!updated) {
		state.credentialId = await client.createCredential(
			credential.name,
			CREDENTIAL_TYPE,
			credential.data,
		);
	}
	await writeState(state);
	const reference = { id: state.credentialId!, name: credential.name };

	state.workflows ??= {};
	for (const key of Object.keys(DEMO_WORKFLOWS) as Array<keyof typeof DEMO_WORKFLOWS>) {
		if (await storedWorkflow(client, state.workflows[key])) continue;
		state.workflows[key] = await client.createWorkflow(
			loadDemoWorkflow(DEMO_WORKFLOWS[key], reference),
		);
		await writeState(state);
	}
	const autoReplyId = state.workflows.autoReply!;
	const autoReply = await storedWorkflow(client, autoReplyId);
	// A trigger that n8n started at boot keeps the credential data it started with: start it
	// again with the data just stored (new sandbox keys, or the real inbox instead of the sandbox).
	if (autoReply?.active) await client.deactivateWorkflow(autoReplyId);
	await client.activateWorkflow(autoReplyId);
	return autoReplyId;
}

/** Everything this process started, stopped in reverse order on the way out. */
const cleanups: Array<{ what: string; stop: () => Promise<void> }> = [];
let shuttingDown: Promise<void> | undefined;
/** A start in progress (sandbox or n8n): the shutdown waits for it, then stops what it made. */
let pending: Promise<unknown> | undefined;

function shutdown(code: number, reason?: string): Promise<void> {
	shuttingDown ??= (async () => {
		if (reason) say(`\n${reason}: stopping ...`);
		await pending?.then(
			() => undefined,
			() => undefined,
		);
		for (const { what, stop } of cleanups.reverse()) {
			const started = Date.now();
			await stop().then(
				() => say(`  ${what} stopped (${seconds(started)})`),
				(error: unknown) => process.stderr.write(`  stopping ${what} failed: ${String(error)}\n`),
			);
		}
		process.exit(code);
	})();
	return shuttingDown;
}

/** Runs a start step so that a Ctrl-C meanwhile still stops what it starts. */
async function starting<T>(work: Promise<T>): Promise<T> {
	pending = work;
	const result = await work;
	pending = undefined;
	return result;
}

async function main(): Promise<void> {
	for (const signal of ['SIGINT', 'SIGTERM'] as const) {
		process.on(signal, () => void shutdown(0, signal === 'SIGINT' ? 'Ctrl-C' : signal));
	}
	const started = Date.now();
	say('AgentMail nodes for n8n: starting the demo (npm run dev)');

	await step('Building the package (npm run build)', build);
	const installation = await step(
		`n8n ${N8N_VERSION} in ${path.relative(PROJECT_ROOT, n8nCacheDir())}/ (installed on the first start only)`,
		async () => await installN8n({ log: (line) => say(`  ${line}`) }),
	);

	const real = realInbox();
	let credential: { name: string; data: Record<string, string | number | boolean> };
	let inboxLine: string;
	if (real) {
		say(
			'▸ AGENTMAIL_INBOX and AGENTMAIL_API_KEY are set: the credential uses the real AgentMail service; no sandbox',
		);
		credential = { name: `AgentMail ${real.email}`, data: realCredential(real) };
		inboxLine = `${real.email} (the real AgentMail service)`;
	} else {
		const info = await step(
			`Sandbox mail server in ${path.relative(PROJECT_ROOT, sandboxDir())}/`,
			async () => {
				const reused = runningSandbox();
				if (reused) {
					say('  a sandbox already runs there: using it (it keeps running after this)');
					return reused;
				}
				const sandbox: Sandbox = await starting(startSandbox());
				cleanups.push({ what: 'sandbox', stop: async () => await sandbox.stop() });
				return sandbox.info;
			},
		);
		credential = {
			name: `AgentMail ${SANDBOX_AGENT} (sandbox)`,
			data: sandboxCredential(info, SANDBOX_AGENT),
		};
		inboxLine = `${SANDBOX_AGENT} (sandbox, IMAP ${info.imap.host}:${info.imap.port})`;
	}
	if (shuttingDown) return;

	if (await portAnswers('127.0.0.1', N8N_PORT)) {
		throw new Error(
			`port ${N8N_PORT} is already in use: is another n8n (or npm run dev) running? Stop it first`,
		);
	}
	const server: N8nServer = await step(
		`Starting n8n on http://localhost:${N8N_PORT} (user folder ${path.relative(PROJECT_ROOT, USER_FOLDER)}/)`,
		async () => {
			const [brokerPort] = await freePorts(1);
			const running = await starting(
				startN8n({ userFolder: USER_FOLDER, port: N8N_PORT, brokerPort, installation }),
			);
			cleanups.push({ what: 'n8n', stop: async () => await running.stop() });
			return running;
		},
	);
	if (shuttingDown) return;

	const client = new N8nClient(server.url);
	const autoReplyId = await step('Owner, credential and demo workflows', async () => {
		const id = await setUp(client, credential);
		await waitForTriggerStart(client, id, AUTO_REPLY_TRIGGER_NODE, TRIGGER_START_TIMEOUT_MS);
		return id;
	});

	const editor = `http://localhost:${N8N_PORT}`;
	say('');
	say(`Ready in ${seconds(started)}.`);
	say(`  Editor:     ${editor}/workflow/${autoReplyId}`);
	say(`  Login:      ${OWNER.email} / ${OWNER.password}`);
	say(`  Inbox:      ${inboxLine}`);
	say('  Workflows:  "Auto-reply agent" (active), "Scheduled digest" (inactive example)');
	if (real) {
		say(`  Try it:     send a mail to ${real.email}; the agent answers the sender`);
	} else {
		say(`  Try it:     npm run demo:mail   (in another terminal: mails ${SANDBOX_AGENT} from`);
		say(`              ${SANDBOX_PEER}; the agent's reply appears in ${SANDBOX_PEER}'s INBOX)`);
		say(`              npm run sandbox:deliver -- --to ${SANDBOX_AGENT} <file.eml> also works`);
	}
	say(`  n8n log:    ${path.relative(PROJECT_ROOT, server.logFile)}`);
	const ownSandbox = cleanups.some((cleanup) => cleanup.what === 'sandbox');
	say(ownSandbox ? 'Ctrl-C stops n8n and the sandbox.' : 'Ctrl-C stops n8n.');

	const how = await server.exited;
	if (!shuttingDown) {
		process.stderr.write(
			`n8n ended on its own (${how}); the end of its log:\n${server.logTail()}\n`,
		);
		await shutdown(1);
	}
}

main().then(undefined, async (error: unknown) => {
	process.stderr.write(
		`npm run dev failed: ${error instanceof Error ? error.message : String(error)}\n`,
	);
	await shutdown(1);
});
