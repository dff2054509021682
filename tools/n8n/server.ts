/**
 * Starts and stops a real n8n (installed by ./install.ts) with this package loaded the way users
 * get it, and drives it over HTTP: see startN8n() and N8nClient.
 *
 * The package is linked into
 * `$N8N_USER_FOLDER/.n8n/nodes/node_modules/n8n-nodes-agentmail-inbox` (its package.json and
 * dist/, see linkPackage), where n8n's community-packages module scans for `n8n-nodes-*` folders
 * at start (no package.json in `.n8n/nodes` is needed), so its node types are
 * `n8n-nodes-agentmail-inbox.<node name>`. Its requires resolve from the project's own
 * node_modules (Node follows the links to the real paths).
 */
import { existsSync } from 'node:fs';
import { lstat, mkdir, readlink, rm, symlink } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { findInstallation, N8N_VERSION, type N8nInstallation } from './install';
import { startLogged, waitUntilReady } from './supervise';

/** First start of a fresh user folder runs all database migrations: measured 4-11 s. */
const READY_TIMEOUT_MS = 120_000;
/** Pause between two readiness probes. */
const READY_POLL_INTERVAL_MS = 250;
/** One readiness probe. */
const PROBE_TIMEOUT_MS = 2_000;
/** n8n's own graceful shutdown waits up to 30 s for running executions. */
const STOP_TIMEOUT_MS = 45_000;
/** One REST call; a credential test may log in to IMAP and SMTP. */
const REQUEST_TIMEOUT_MS = 60_000;
/** How long a just-activated workflow's webhook may answer 404 before n8n has registered it. */
const WEBHOOK_REGISTER_TIMEOUT_MS = 60_000;
/** Between two tries of a webhook that is not registered yet. */
const WEBHOOK_RETRY_MS = 250;

const PROJECT_ROOT = path.resolve(__dirname, '..', '..');

/** The package's name, as n8n prefixes its node types. */
export const PACKAGE_NAME = 'n8n-nodes-agentmail-inbox';

/** Options of {@link startN8n}. */
export interface StartN8nOptions {
	/**
	 * `start` (default): a main process, with the editor, the REST and public APIs and the
	 * active workflows' triggers. `worker`: a queue-mode worker (`n8n worker`), which takes
	 * executions from the Redis queue and has no editor; give it the main's database, Redis and
	 * N8N_ENCRYPTION_KEY through `env`.
	 */
	command?: 'start' | 'worker';
	/** More command-line arguments, e.g. `['--concurrency=5']` for a worker. */
	args?: string[];
	/** N8N_USER_FOLDER: n8n keeps `.n8n/` (SQLite database, settings, community nodes) in it. */
	userFolder: string;
	/**
	 * `start`: HTTP port of the editor, REST and public API. `worker`: port of the worker's
	 * health server (QUEUE_HEALTH_CHECK_PORT), whose `/healthz/readiness` says when it is ready.
	 */
	port: number;
	/** Port of the task runners' broker; must differ from every other n8n's (default 5679). */
	brokerPort: number;
	/** Listen address; default 127.0.0.1. */
	listenAddress?: string;
	/** Folder with package.json and dist/ to load; default the project root. */
	packageRoot?: string;
	/**
	 * Whether to link packageRoot into the user folder (default true). False: the package is
	 * already installed there (see communityPackage.ts), and is loaded as it is.
	 */
	linkPackage?: boolean;
	/** Default: the one in the cache folder (see install.ts); it must be installed. */
	installation?: N8nInstallation;
	/** n8n's output goes here; default `<userFolder>/n8n.log` (a worker's: `n8n-worker-<port>.log`). */
	logFile?: string;
	/** N8N_LOG_LEVEL; default 'info'. */
	logLevel?: 'error' | 'warn' | 'info' | 'debug';
	/** More environment for n8n (wins over the defaults). */
	env?: Record<string, string>;
}

/** A running n8n. */
export interface N8nServer {
	/** The n8n command it runs: `start` (a main process) or `worker`. */
	readonly command: 'start' | 'worker';
	/** `http://127.0.0.1:<port>` (or the listen address given); a worker's health server. */
	readonly url: string;
	readonly port: number;
	readonly userFolder: string;
	readonly logFile: string;
	readonly pid: number;
	/** SIGTERM, then waits for the exit (SIGKILL after a timeout). Safe to call twice. */
	stop(): Promise<void>;
	/** The end of n8n's log, for error messages. */
	logTail(lines?: number): string;
	/** Settles when the n8n process has ended, with how it ended (e.g. `exit code 1`). */
	readonly exited: Promise<string>;
}

/**
 * Puts the package into the user folder's community-nodes folder: a real folder
 * `<userFolder>/.n8n/nodes/node_modules/<package name>` holding symlinks to the project's
 * package.json and dist/ (a stale link or folder from an earlier layout is replaced). Returns
 * the folder's path.
 *
 * Not one symlink to the whole project: when the user folder lies inside the project (npm run
 * dev keeps it in .n8n-dev/), that link would make a cycle, and `n8n-node build`, which globs
 * the project for static files following symlinks, would never finish.
 */
export async function linkPackage(userFolder: string, packageRoot = PROJECT_ROOT): Promise<string> {
	const root = path.resolve(packageRoot);
	if (!existsSync(path.join(root, 'dist'))) {
		throw new Error(`${root}/dist does not exist: run npm run build first`);
	}
	const folder = path.join(userFolder, '.n8n', 'nodes', 'node_modules', PACKAGE_NAME);
	const existing = await lstat(folder).then(
		(stats) => stats,
		() => undefined,
	);
	if (existing && !existing.isDirectory()) await rm(folder, { force: true });
	await mkdir(folder, { recursive: true });
	for (const entry of ['package.json', 'dist']) {
		const link = path.join(folder, entry);
		const target = path.join(root, entry);
		const current = await readlink(link).then(
			(value) => value,
			() => undefined,
		);
		if (current === target) continue;
		await rm(link, { recursive: true, force: true });
		await symlink(target, link, entry === 'dist' ? 'dir' : 'file');
	}
	return folder;
}

/** The environment n8n runs with. */
function n8nEnv(options: StartN8nOptions, installation: N8nInstallation): NodeJS.ProcessEnv {
	const env: NodeJS.ProcessEnv = {};
	for (const [key, value] of Object.entries(process.env)) {
		// Nothing of npm's or jest's run (NODE_ENV=test makes n8n refuse to load nodes).
		if (/^npm_/i.test(key) || key === 'NODE_ENV' || key === 'NODE_OPTIONS') continue;
		if (key.startsWith('JEST_') || key === 'INIT_CWD') continue;
		env[key] = value;
	}
	const listenAddress = options.listenAddress ?? '127.0.0.1';
	// A worker serves no editor: its port is its health server's.
	const ports =
		options.command === 'worker'
			? {
					QUEUE_HEALTH_CHECK_ACTIVE: 'true',
					QUEUE_HEALTH_CHECK_PORT: String(options.port),
					N8N_WORKER_SERVER_ADDRESS: listenAddress,
				}
			: { N8N_PORT: String(options.port), N8N_LISTEN_ADDRESS: listenAddress };
	return {
		...env,
		PATH: `${path.join(installation.nodeDir, 'bin')}${path.delimiter}${env.PATH ?? ''}`,
		NODE_ENV: 'production',
		N8N_USER_FOLDER: options.userFolder,
		...ports,
		N8N_RUNNERS_BROKER_PORT: String(options.brokerPort),
		N8N_RUNNERS_BROKER_LISTEN_ADDRESS: '127.0.0.1',
		DB_TYPE: 'sqlite',
		N8N_DIAGNOSTICS_ENABLED: 'false',
		N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
		N8N_TEMPLATES_ENABLED: 'false',
		N8N_PERSONALIZATION_ENABLED: 'false',
		N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS: 'true',
		N8N_LOG_LEVEL: options.logLevel ?? 'info',
		N8N_LOG_OUTPUT: 'console',
		...options.env,
	};
}

/** Whether `GET <url><urlPath>` answers 2xx within a probe's time. */
async function answersOk(url: string, urlPath: string): Promise<boolean> {
	return await fetch(`${url}${urlPath}`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) }).then(
		(response) => response.ok,
		() => false,
	);
}

async function probeReadiness(url: string): Promise<boolean> {
	return await answersOk(url, '/healthz/readiness');
}

/** Whether the REST API answers (the settings the editor loads before anyone logs in). */
async function probeRest(url: string): Promise<boolean> {
	return await answersOk(url, '/rest/settings');
}

/**
 * Starts n8n on the installed Node with this package linked into the user folder, and waits
 * until `/healthz/readiness` answers (migrations done, nodes loaded; for a worker: also
 * connected to Redis and taking jobs).
 */
export async function startN8n(options: StartN8nOptions): Promise<N8nServer> {
	const installation = options.installation ?? findInstallation();
	if (!installation) {
		throw new Error(
			`n8n ${N8N_VERSION} is not installed: run npx tsx tools/n8n/install.ts (or installN8n())`,
		);
	}
	const command = options.command ?? 'start';
	const userFolder = path.resolve(options.userFolder);
	await mkdir(userFolder, { recursive: true });
	if (options.linkPackage ?? true) await linkPackage(userFolder, options.packageRoot);
	const logName = command === 'worker' ? `n8n-worker-${options.port}.log` : 'n8n.log';
	const logFile = options.logFile ?? path.join(userFolder, logName);
	const listenAddress = options.listenAddress ?? '127.0.0.1';
	const url = `http://${listenAddress}:${options.port}`;
	if (await probeReadiness(url)) {
		throw new Error(`something already answers on ${url}`);
	}

	const what = command === 'worker' ? 'n8n worker' : 'n8n';
	const server = startLogged(
		installation.nodeBinary,
		[installation.n8nBin, command, ...(options.args ?? [])],
		{
			what,
			logFile,
			cwd: userFolder,
			env: n8nEnv({ ...options, userFolder }, installation),
			// Its own process group: a Ctrl-C in the terminal reaches the supervisor, which then
			// stops n8n in order; a stuck n8n and its task runner can be killed together.
			detached: true,
			stopTimeoutMs: STOP_TIMEOUT_MS,
		},
	);
	await waitUntilReady(server, {
		what,
		// n8n 1.123 says ready about 5 s before its REST API is mounted (404 until then); a main
		// counts as ready once both answer.
		probe: async () =>
			(await probeReadiness(url)) && (command === 'worker' || (await probeRest(url))),
		timeoutMs: READY_TIMEOUT_MS,
		pollIntervalMs: READY_POLL_INTERVAL_MS,
	});
	return {
		command,
		url,
		port: options.port,
		userFolder,
		logFile,
		pid: server.pid,
		stop: server.stop,
		logTail: server.logTail,
		exited: server.exited,
	};
}

/** An n8n REST or public API call that did not answer 2xx. */
export class N8nHttpError extends Error {
	constructor(
		readonly method: string,
		readonly urlPath: string,
		readonly status: number,
		readonly body: string,
	) {
		super(`${method} ${urlPath}: HTTP ${status} ${body.slice(0, 500)}`);
		this.name = 'N8nHttpError';
	}
}

/** The owner account {@link N8nClient.setupOwner} creates. */
export interface OwnerAccount {
	email: string;
	password: string;
	firstName: string;
	lastName: string;
}

/** What `POST /rest/credentials/test` answers. */
export interface CredentialTestResult {
	status: 'OK' | 'Error';
	message: string;
}

/** A workflow as the public API takes it. */
export interface WorkflowInput {
	name: string;
	nodes: unknown[];
	connections: Record<string, unknown>;
	settings?: Record<string, unknown>;
}

/** An item of a node's output in an execution's data. */
export interface ExecutionItem {
	json: unknown;
	/** Binary properties: their metadata, and `id` (`<mode>:<file id>`) when stored outside. */
	binary?: Record<string, { id?: string; fileName?: string; mimeType?: string; fileSize?: string }>;
}

/** An execution as the public API lists it (data only with includeData). */
export interface Execution {
	id: number | string;
	workflowId: string;
	mode: string;
	status: string;
	finished: boolean;
	startedAt: string;
	stoppedAt: string | null;
	data?: {
		resultData: {
			runData: Record<string, Array<{ data?: { main: Array<Array<ExecutionItem>> } }>>;
			error?: { message: string };
		};
	};
}

type Json = Record<string, unknown>;

/**
 * A small client for n8n's internal REST API (`/rest/...`, cookie session) and its public API
 * (`/api/v1/...`, X-N8N-API-KEY).
 */
export class N8nClient {
	private cookie: string | undefined;
	private apiKeyValue: string | undefined;

	constructor(readonly baseUrl: string) {}

	private async request(
		method: string,
		urlPath: string,
		body: unknown,
		auth: 'cookie' | 'apiKey' | 'none',
	): Promise<unknown> {
		const headers: Record<string, string> = { accept: 'application/json' };
		if (body !== undefined) headers['content-type'] = 'application/json';
		if (auth === 'cookie') {
			if (!this.cookie) throw new Error(`${method} ${urlPath}: log in first`);
			headers.cookie = this.cookie;
		}
		if (auth === 'apiKey') {
			if (!this.apiKeyValue) throw new Error(`${method} ${urlPath}: create an API key first`);
			headers['x-n8n-api-key'] = this.apiKeyValue;
		}
		const send = async () =>
			await fetch(`${this.baseUrl}${urlPath}`, {
				method,
				headers,
				body: body === undefined ? undefined : JSON.stringify(body),
				signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
			});
		let response: Response;
		try {
			response = await send();
		} catch (error) {
			// A kept-alive connection n8n closed just as this request went out ("other side
			// closed"): the request never reached n8n, so a GET is safe to send once more.
			const cause = (error as { cause?: { code?: string } }).cause;
			if (method !== 'GET' || cause?.code !== 'UND_ERR_SOCKET') throw error;
			response = await send();
		}
		// n8n renews the session cookie on some answers.
		for (const setCookie of response.headers.getSetCookie()) {
			const [pair] = setCookie.split(';');
			if (pair.startsWith('n8n-auth=') && pair !== 'n8n-auth=') this.cookie = pair;
		}
		const text = await response.text();
		if (!response.ok) throw new N8nHttpError(method, urlPath, response.status, text);
		if (text === '') return undefined;
		const parsed: unknown = JSON.parse(text);
		// The internal REST API wraps answers in {data}; the public API does not.
		if (urlPath.startsWith('/rest/') && parsed && typeof parsed === 'object' && 'data' in parsed) {
			return (parsed as { data: unknown }).data;
		}
		return parsed;
	}

	/** Creates the instance owner (only once per user folder) and keeps the session. */
	async setupOwner(owner: OwnerAccount): Promise<void> {
		await this.request('POST', '/rest/owner/setup', owner, 'none');
	}

	/** Logs in (email and password) and keeps the `n8n-auth` cookie. */
	async login(email: string, password: string): Promise<void> {
		await this.request('POST', '/rest/login', { emailOrLdapLoginId: email, password }, 'none');
		if (!this.cookie) throw new Error('POST /rest/login set no n8n-auth cookie');
	}

	/**
	 * Creates a public-API key with every scope the logged-in user's role may grant, remembers
	 * it for the public-API calls, and returns it.
	 */
	async createApiKey(label: string): Promise<string> {
		const scopes = (await this.request('GET', '/rest/api-keys/scopes', undefined, 'cookie')) as
			string[] | undefined;
		if (!Array.isArray(scopes) || scopes.length === 0) {
			throw new Error('GET /rest/api-keys/scopes gave no scopes');
		}
		const created = (await this.request(
			'POST',
			'/rest/api-keys',
			{ label, scopes, expiresAt: null },
			'cookie',
		)) as { rawApiKey?: string };
		if (!created.rawApiKey) throw new Error('POST /rest/api-keys gave no rawApiKey');
		this.apiKeyValue = created.rawApiKey;
		return created.rawApiKey;
	}

	/** Uses an API key created earlier (e.g. by another client of the same instance). */
	useApiKey(apiKey: string): void {
		this.apiKeyValue = apiKey;
	}

	/** Creates a credential in the owner's personal project; returns its id. */
	async createCredential(name: string, type: string, data: Json): Promise<string> {
		const created = (await this.request(
			'POST',
			'/rest/credentials',
			{ name, type, data },
			'cookie',
		)) as { id?: string };
		if (!created.id) throw new Error('POST /rest/credentials gave no id');
		return created.id;
	}

	/** Replaces a credential's name and data (e.g. new sandbox keys); returns nothing. */
	async updateCredential(id: string, name: string, type: string, data: Json): Promise<void> {
		await this.request('PATCH', `/rest/credentials/${id}`, { name, type, data }, 'cookie');
	}

	/**
	 * Whether the instance still shows the owner-setup screen (a fresh user folder), from the
	 * settings the editor loads before anyone logs in.
	 */
	async needsOwnerSetup(): Promise<boolean> {
		const settings = (await this.request('GET', '/rest/settings', undefined, 'none')) as {
			userManagement?: { showSetupOnFirstLoad?: boolean };
		};
		return settings.userManagement?.showSetupOnFirstLoad === true;
	}

	/** A stored credential as the editor gets it: secrets come back redacted. */
	async getCredential(id: string): Promise<{ id: string; name: string; type: string; data: Json }> {
		return (await this.request(
			'GET',
			`/rest/credentials/${id}?includeData=true`,
			undefined,
			'cookie',
		)) as { id: string; name: string; type: string; data: Json };
	}

	/**
	 * Runs the credential type's test through n8n, as the editor's credential dialog does: it
	 * sends the form's data, where secrets left unchanged are still redacted (n8n puts the stored
	 * values back). Without `data`, the stored credential is tested. `data` is tested in place of
	 * the stored data, which stays as it is.
	 */
	async testCredential(id: string, data?: Json): Promise<CredentialTestResult> {
		const stored = await this.getCredential(id);
		return (await this.request(
			'POST',
			'/rest/credentials/test',
			{ credentials: { id, name: stored.name, type: stored.type, data: data ?? stored.data } },
			'cookie',
		)) as CredentialTestResult;
	}

	/** Every node type n8n has loaded (`/types/nodes.json`, served to the editor). */
	async nodeTypes(): Promise<Array<{ name: string; version: number | number[] }>> {
		return (await this.request('GET', '/types/nodes.json', undefined, 'cookie')) as Array<{
			name: string;
			version: number | number[];
		}>;
	}

	/** Every credential type n8n has loaded (`/types/credentials.json`, served to the editor). */
	async credentialTypes(): Promise<Array<{ name: string; displayName: string }>> {
		return (await this.request('GET', '/types/credentials.json', undefined, 'cookie')) as Array<{
			name: string;
			displayName: string;
		}>;
	}

	/** Creates a workflow through the public API; returns its id. */
	async createWorkflow(workflow: WorkflowInput): Promise<string> {
		const created = (await this.request(
			'POST',
			'/api/v1/workflows',
			{ ...workflow, settings: workflow.settings ?? { executionOrder: 'v1' } },
			'apiKey',
		)) as { id?: string };
		if (!created.id) throw new Error('POST /api/v1/workflows gave no id');
		return created.id;
	}

	/** Activates ("publishes" in n8n 2) a workflow: its triggers start listening. */
	async activateWorkflow(id: string): Promise<void> {
		await this.request('POST', `/api/v1/workflows/${id}/activate`, {}, 'apiKey');
	}

	/**
	 * Starts a workflow through its Webhook node: POSTs `body` to `/webhook/<webhookPath>`. n8n
	 * registers a just-activated workflow's webhook a moment after the activate call answered
	 * (404 until then), so a 404 is tried again for up to `registerTimeoutMs`; any other answer
	 * that is not 2xx throws.
	 */
	async postWebhook(
		webhookPath: string,
		body: unknown,
		{ registerTimeoutMs = WEBHOOK_REGISTER_TIMEOUT_MS, timeoutMs = REQUEST_TIMEOUT_MS } = {},
	): Promise<void> {
		const urlPath = `/webhook/${webhookPath}`;
		const deadline = Date.now() + registerTimeoutMs;
		for (;;) {
			const response = await fetch(`${this.baseUrl}${urlPath}`, {
				method: 'POST',
				headers: { 'content-type': 'application/json' },
				body: JSON.stringify(body),
				signal: AbortSignal.timeout(timeoutMs),
			});
			if (response.ok) return;
			if (response.status !== 404 || Date.now() > deadline) {
				throw new N8nHttpError('POST', urlPath, response.status, await response.text());
			}
			await sleep(WEBHOOK_RETRY_MS);
		}
	}

	/** Deactivates a workflow. */
	async deactivateWorkflow(id: string): Promise<void> {
		await this.request('POST', `/api/v1/workflows/${id}/deactivate`, {}, 'apiKey');
	}

	/**
	 * A workflow as the public API returns it (with `active` and `staticData`). n8n 2.40 applies
	 * an activation in the background (its publication outbox), after the activate call answered:
	 * a trigger that keeps static data shows it here once it has started.
	 */
	async getWorkflow(id: string): Promise<Json> {
		return (await this.request('GET', `/api/v1/workflows/${id}`, undefined, 'apiKey')) as Json;
	}

	/**
	 * Retries a failed execution as the executions list does ("Retry with original workflow"
	 * unless `loadWorkflow`): n8n runs it again from the node that failed, with that node's
	 * input. Answers once the retry has ended.
	 */
	async retryExecution(id: string | number, loadWorkflow = false): Promise<void> {
		await this.request('POST', `/rest/executions/${id}/retry`, { loadWorkflow }, 'cookie');
	}

	/**
	 * Executions of a workflow (newest first, with their data unless `includeData` is false),
	 * all pages.
	 */
	async executions(workflowId?: string, includeData = true): Promise<Execution[]> {
		const all: Execution[] = [];
		let cursor: string | undefined;
		do {
			const query = new URLSearchParams({ includeData: String(includeData), limit: '100' });
			if (workflowId) query.set('workflowId', workflowId);
			if (cursor) query.set('cursor', cursor);
			const page = (await this.request(
				'GET',
				`/api/v1/executions?${query.toString()}`,
				undefined,
				'apiKey',
			)) as { data: Execution[]; nextCursor?: string | null };
			all.push(...page.data);
			cursor = page.nextCursor ?? undefined;
		} while (cursor);
		return all;
	}
}
