import { readdirSync } from 'node:fs';
import path from 'node:path';

import type { Config } from '@jest/types';

import { startTemporarySandbox, type Sandbox } from '../../tools/sandbox/sandbox';
import { ensureSystemPackages } from '../../tools/sandbox/systemPackages';
import globalTeardown from './globalTeardown';

declare global {
	// Shared between globalSetup and globalTeardown, which jest runs in the same process.
	var agentMailSandbox: Sandbox | undefined;
}

/** The files under `folder` whose names end in `.test.ts` (jest.config.js's testMatch). */
function testFiles(folder: string): string[] {
	return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
		const file = path.join(folder, entry.name);
		if (entry.isDirectory()) return testFiles(file);
		return entry.name.endsWith('.test.ts') ? [file] : [];
	});
}

/** The test files this run takes: jest's path patterns and ignore patterns applied. */
function selectedTestFiles(globalConfig: Config.GlobalConfig, projectConfig: Config.ProjectConfig) {
	const patterns = globalConfig.testPathPatterns.toExecutor({ rootDir: globalConfig.rootDir });
	const ignored = projectConfig.testPathIgnorePatterns.map((pattern) => new RegExp(pattern));
	return projectConfig.roots
		.flatMap((root) => testFiles(root))
		.filter((file) => patterns.isMatch(file) && !ignored.some((pattern) => pattern.test(file)));
}

/**
 * Installs (as root) the system packages the selected tests of this project need, or fails at
 * once with the command to run; then starts one sandbox for the whole jest run, in a fresh
 * temporary folder on free ports, and publishes its sandbox.json as AGENTMAIL_SANDBOX_JSON (the
 * test workers inherit it). jest calls this once per project that runs against the sandbox
 * (jest.config.js): the first call starts the sandbox, the next ones keep it.
 */
export default async function globalSetup(
	globalConfig: Config.GlobalConfig,
	projectConfig: Config.ProjectConfig,
): Promise<void> {
	try {
		await ensureSystemPackages(selectedTestFiles(globalConfig, projectConfig));
	} catch (error) {
		// jest stops without its globalTeardown: stop the sandbox an earlier project started.
		await globalTeardown();
		throw error;
	}
	if (globalThis.agentMailSandbox) return;
	const sandbox = await startTemporarySandbox();
	globalThis.agentMailSandbox = sandbox;
	process.env.AGENTMAIL_SANDBOX_JSON = sandbox.infoPath;
}
