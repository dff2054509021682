/**
 * The Debian/Ubuntu packages the tests need besides Dovecot (which the sandbox installs itself,
 * see ensureDovecotInstalled): Chromium for the editor test, Redis and PostgreSQL for the
 * queue-mode test, openssl for the sandbox's certificates, and a compiler for n8n's native
 * addons while n8n is not installed yet. jest's globalSetup calls ensureSystemPackages() for
 * the test files the run selects: as root it installs what is missing with apt-get, as anyone
 * else it fails at once with the command to run, before any test has started.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';

import { findInstallation, MATRIX_VERSIONS, N8N_VERSION, n8nVersionDir } from '../n8n/install';
import { postgresInstalled } from '../n8n/postgres';
import { findRedisServer } from '../n8n/redis';
import { findExecutable } from '../n8n/supervise';
import { runCommand } from './processes';

/** apt-get update plus Chromium and its libraries: a few minutes on a slow mirror. */
const APT_INSTALL_TIMEOUT_MS = 20 * 60_000;

const PROJECT_ROOT = path.resolve(__dirname, '..', '..');

/** Debian's Chromium, which the editor and Send and Wait tests drive (Playwright never downloads a browser). */
export const CHROMIUM = '/usr/bin/chromium';

/** A system package some tests need. */
export interface SystemPackage {
	/** The Debian/Ubuntu package. */
	name: string;
	/** Who needs it, for the messages. */
	neededBy: string;
	/** The test files that need it, relative to the project root; empty: every test. */
	testFiles: readonly string[];
	/** Whether what the tests use of it is there. */
	installed(): boolean;
}

const E2E_FOLDER = 'test/e2e/';
const MATRIX_FOLDER = 'test/matrix/';

/** What the test suite needs from the system, besides Dovecot. */
export const TEST_SYSTEM_PACKAGES: readonly SystemPackage[] = [
	{
		name: 'openssl',
		neededBy: 'the sandbox (its TLS certificates)',
		testFiles: [],
		installed: () => findExecutable(['openssl']) !== undefined,
	},
	{
		name: 'chromium',
		neededBy: 'the editor test and the Send and Wait test',
		testFiles: ['test/e2e/editor.e2e.test.ts', 'test/e2e/sendAndWait.e2e.test.ts'],
		installed: () => existsSync(CHROMIUM),
	},
	{
		name: 'redis-server',
		neededBy: 'the queue-mode test',
		testFiles: ['test/e2e/queue.e2e.test.ts'],
		installed: () => findRedisServer() !== undefined,
	},
	{
		name: 'postgresql',
		neededBy: 'the queue-mode test',
		testFiles: ['test/e2e/queue.e2e.test.ts'],
		installed: postgresInstalled,
	},
	// n8n's first install of a version builds sqlite3 and isolated-vm from source (see
	// tools/n8n/install.ts): the end-to-end tests run the pin, the matrix every version.
	...compilers([E2E_FOLDER], [N8N_VERSION]),
	...compilers([MATRIX_FOLDER], MATRIX_VERSIONS),
];

/** What building n8n's native addons takes, until each of `versions` is installed. */
function compilers(testFiles: string[], versions: readonly string[]): SystemPackage[] {
	const allInstalled = () =>
		versions.every((version) => findInstallation(n8nVersionDir(version), version) !== undefined);
	return ['g++', 'make', 'python3'].map((name) => ({
		name,
		neededBy: 'building n8n’s native addons (n8n is not installed yet)',
		testFiles,
		installed: () => allInstalled() || findExecutable([name]) !== undefined,
	}));
}

/** The apt-get command that installs `names`, with sudo in front of each part unless root. */
export function aptInstallCommand(names: readonly string[], asRoot: boolean): string {
	const sudo = asRoot ? '' : 'sudo ';
	return (
		`${sudo}apt-get update && ${sudo}DEBIAN_FRONTEND=noninteractive apt-get install -y ` +
		`--no-install-recommends ${names.join(' ')}`
	);
}

/** What to do about the packages a run needs. */
export type SystemPackagePlan =
	| { action: 'none' }
	| { action: 'install'; names: string[]; command: string }
	| { action: 'fail'; message: string };

/** Whether a test file (absolute path) needs `pkg`. */
function needs(pkg: SystemPackage, testFile: string): boolean {
	const relative = path.relative(PROJECT_ROOT, testFile).split(path.sep).join('/');
	return pkg.testFiles.length === 0 || pkg.testFiles.some((file) => relative.startsWith(file));
}

/**
 * Decides, without side effects: nothing to do when every package the selected test files
 * need is installed; else install them with apt-get when running as root on a system that has
 * it; else fail with the command to run (or, without apt-get, the packages to install).
 */
export function planSystemPackages(
	packages: readonly SystemPackage[],
	selectedTestFiles: readonly string[],
	system: { asRoot: boolean; hasAptGet: boolean },
): SystemPackagePlan {
	const missing = packages.filter(
		(pkg) => selectedTestFiles.some((file) => needs(pkg, file)) && !pkg.installed(),
	);
	if (missing.length === 0) return { action: 'none' };
	const names = [...new Set(missing.map((pkg) => pkg.name))];
	if (system.asRoot && system.hasAptGet) {
		return { action: 'install', names, command: aptInstallCommand(names, true) };
	}
	const what = missing.map((pkg) => `${pkg.name} (${pkg.neededBy})`).join(', ');
	const how = system.hasAptGet
		? `Install them with:\n  ${aptInstallCommand(names, system.asRoot)}`
		: `Install them with this system's package manager (on Debian/Ubuntu: ${aptInstallCommand(names, false)})`;
	// Without what only the tests in n8n need, the other tests can still run.
	const onlyE2e = missing.every(
		(pkg) =>
			pkg.testFiles.length > 0 &&
			pkg.testFiles.every((f) => f.startsWith(E2E_FOLDER) || f.startsWith(MATRIX_FOLDER)),
	);
	const alternative = onlyE2e ? '\nOr leave out the tests in n8n: npm run test:fast' : '';
	return {
		action: 'fail',
		message: `The tests need system packages that are not installed: ${what}. ${how}${alternative}`,
	};
}

/**
 * Makes sure the packages the selected test files need are there: installs them as root,
 * otherwise throws with the command to run.
 */
export async function ensureSystemPackages(
	selectedTestFiles: readonly string[],
	packages: readonly SystemPackage[] = TEST_SYSTEM_PACKAGES,
): Promise<void> {
	const plan = planSystemPackages(packages, selectedTestFiles, {
		asRoot: process.getuid?.() === 0,
		hasAptGet: findExecutable(['apt-get']) !== undefined,
	});
	if (plan.action === 'none') return;
	if (plan.action === 'fail') throw new Error(plan.message);
	process.stderr.write(`Not installed: ${plan.names.join(', ')}; running: ${plan.command}\n`);
	const result = await runCommand('/bin/sh', ['-c', plan.command], {
		timeoutMs: APT_INSTALL_TIMEOUT_MS,
		env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
		inheritOutput: true,
	});
	const stillMissing = packages.filter((pkg) => plan.names.includes(pkg.name) && !pkg.installed());
	if (result.code !== 0 || stillMissing.length > 0) {
		throw new Error(
			`installing ${plan.names.join(', ')} failed (exit code ${result.code}): ${plan.command}`,
		);
	}
}
