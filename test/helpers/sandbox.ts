/**
 * The sandbox for tests: the clients of tools/sandbox/client.ts, and a sandbox of a test
 * file's own.
 */
import { rm } from 'node:fs/promises';

import {
	startTemporarySandbox,
	type Sandbox,
	type SandboxProfile,
} from '../../tools/sandbox/sandbox';

export * from '../../tools/sandbox/client';

/**
 * Gives the calling test file a sandbox of its own (started before its tests, stopped after),
 * for tests that count what the servers saw or break them on purpose: other files running in
 * parallel then cannot add to the counts. The helpers above point at it while the file runs.
 * `profile` picks which servers it stands for (tools/sandbox/profiles.ts).
 */
export function useOwnSandbox(profile?: SandboxProfile): () => Sandbox {
	let sandbox: Sandbox | undefined;
	let previous: string | undefined;
	beforeAll(async () => {
		sandbox = await startTemporarySandbox('agentmail-own-', [], profile);
		previous = process.env.AGENTMAIL_SANDBOX_JSON;
		process.env.AGENTMAIL_SANDBOX_JSON = sandbox.infoPath;
	});
	afterAll(async () => {
		process.env.AGENTMAIL_SANDBOX_JSON = previous;
		await sandbox?.stop();
		if (sandbox) await rm(sandbox.dir, { recursive: true, force: true });
	});
	return () => {
		if (!sandbox)
			throw new Error('useOwnSandbox: the sandbox is not started yet (use it inside tests)');
		return sandbox;
	};
}
