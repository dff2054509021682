/** Builds the package before an n8n loads it, when dist/ is missing or older than the sources. */
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

import { runCommand } from '../sandbox/processes';

/** `npm run build` of the package. */
const BUILD_TIMEOUT_MS = 5 * 60_000;
const PROJECT_ROOT = path.resolve(__dirname, '..', '..');

/** Newest modification time of the files under `target` (a file or a folder). */
function newestMtime(target: string): number {
	if (!existsSync(target)) return 0;
	const stats = statSync(target);
	if (!stats.isDirectory()) return stats.mtimeMs;
	return readdirSync(target)
		.map((entry) => newestMtime(path.join(target, entry)))
		.reduce((a, b) => Math.max(a, b), 0);
}

/** Builds the package when dist/ is missing or older than the sources. */
export async function ensureBuilt(): Promise<void> {
	const sources = ['nodes', 'credentials', 'icons', 'package.json'].map((entry) =>
		newestMtime(path.join(PROJECT_ROOT, entry)),
	);
	const built = [
		'dist/nodes/AgentMail/AgentMail.node.js',
		'dist/nodes/AgentMailTrigger/AgentMailTrigger.node.js',
		'dist/credentials/AgentMailInboxApi.credentials.js',
	].map((file) => newestMtime(path.join(PROJECT_ROOT, file)));
	if (Math.min(...built) >= Math.max(...sources)) return;
	process.stdout.write('dist/ is missing or older than the sources: npm run build\n');
	const result = await runCommand('npm', ['--prefix', PROJECT_ROOT, 'run', 'build'], {
		timeoutMs: BUILD_TIMEOUT_MS,
	});
	if (result.code !== 0) {
		throw new Error(
			`npm run build failed (exit ${result.code}):\n${result.stdout.toString()}\n${result.stderr.toString()}`,
		);
	}
}
