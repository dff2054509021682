/**
 * The package as n8n's Settings → Community Nodes installs it, from the tarball `npm pack` makes
 * instead of the registry: see packPackage() and installPackedPackage().
 *
 * What n8n 2.40 does (its CommunityPackagesService.downloadPackage) and this repeats: extract
 * the tarball into `<N8N_USER_FOLDER>/.n8n/nodes/node_modules/<name>`, drop devDependencies,
 * peerDependencies and optionalDependencies from its package.json, run `npm install` there with
 * scripts, bin links, audit and a lock file off (so only the runtime dependencies come, from the
 * registry), and record the version in `.n8n/nodes/package.json`. At its next start n8n loads
 * every `n8n-nodes-*` folder of that node_modules.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { runCommand } from '../sandbox/processes';
import { PACKAGE_NAME } from './server';

/** npm pack of a built package is quick; npm install fetches four runtime dependencies. */
const NPM_TIMEOUT_MS = 10 * 60_000;

const PROJECT_ROOT = path.resolve(__dirname, '..', '..');

/** n8n's flags for the package's own `npm install`. */
const COMMUNITY_INSTALL_FLAGS = [
	'--audit=false',
	'--fund=false',
	'--bin-links=false',
	'--install-strategy=shallow',
	'--ignore-scripts=true',
	'--package-lock=false',
];

async function run(command: string, args: string[], cwd: string): Promise<string> {
	// Nothing of the project's npm run (its .npmrc settings, npm_config_*) reaches these calls.
	const env: NodeJS.ProcessEnv = {};
	for (const [key, value] of Object.entries(process.env)) {
		if (!/^npm_/i.test(key)) env[key] = value;
	}
	const result = await runCommand(command, args, { cwd, env, timeoutMs: NPM_TIMEOUT_MS });
	const output = `${result.stdout.toString()}${result.stderr.toString()}`;
	if (result.code !== 0) {
		throw new Error(
			`${command} ${args.join(' ')} in ${cwd} failed (exit ${result.code}):\n${output}`,
		);
	}
	return result.stdout.toString();
}

/** `npm pack` of the built project into `destination`; returns the tarball's path. */
export async function packPackage(
	destination: string,
	packageRoot = PROJECT_ROOT,
): Promise<string> {
	await mkdir(destination, { recursive: true });
	const output = await run(
		'npm',
		['pack', '--pack-destination', destination, '--ignore-scripts', '--json'],
		packageRoot,
	);
	const [packed] = JSON.parse(output) as Array<{ filename: string }>;
	return path.join(destination, packed.filename);
}

/**
 * Installs a packed tarball of this package into the user folder's community-nodes folder the
 * way n8n's Community Nodes installs one; returns the package's folder.
 */
export async function installPackedPackage(userFolder: string, tarball: string): Promise<string> {
	const nodesFolder = path.join(userFolder, '.n8n', 'nodes');
	const packageFolder = path.join(nodesFolder, 'node_modules', PACKAGE_NAME);
	await rm(packageFolder, { recursive: true, force: true });
	await mkdir(packageFolder, { recursive: true });
	await run('tar', ['-xzf', tarball, '-C', packageFolder, '--strip-components=1'], nodesFolder);

	const manifestFile = path.join(packageFolder, 'package.json');
	const manifest = JSON.parse(await readFile(manifestFile, 'utf8')) as Record<string, unknown>;
	delete manifest.devDependencies;
	delete manifest.peerDependencies;
	delete manifest.optionalDependencies;
	await writeFile(manifestFile, JSON.stringify(manifest, null, 2));
	await run('npm', ['install', ...COMMUNITY_INSTALL_FLAGS], packageFolder);

	const nodesManifestFile = path.join(nodesFolder, 'package.json');
	const nodesManifest = await readFile(nodesManifestFile, 'utf8').then(
		(text) => JSON.parse(text) as { dependencies?: Record<string, string> },
		() => ({ name: 'installed-nodes', private: true, dependencies: {} }),
	);
	nodesManifest.dependencies = {
		...nodesManifest.dependencies,
		[PACKAGE_NAME]: String(manifest.version),
	};
	await writeFile(nodesManifestFile, JSON.stringify(nodesManifest, null, 2));
	return packageFolder;
}

/** A fresh temporary folder holding the packed tarball of the built project. */
export async function packToTemporaryFolder(): Promise<{ tarball: string; dir: string }> {
	const dir = await mkdtemp(path.join(os.tmpdir(), 'agentmail-pack-'));
	return { tarball: await packPackage(dir), dir };
}
