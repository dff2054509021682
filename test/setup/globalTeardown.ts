import { rm } from 'node:fs/promises';

// Brings in the declaration of globalThis.agentMailSandbox.
import type {} from './globalSetup';

/**
 * Stops the sandbox globalSetup started and removes its folder, unless AGENTMAIL_SANDBOX_KEEP is
 * set (to look at mail, logs and smtp-events.jsonl after a failed run).
 */
export default async function globalTeardown(): Promise<void> {
	const sandbox = globalThis.agentMailSandbox;
	// globalSetup failed before the sandbox existed: nothing to stop.
	if (!sandbox) return;
	globalThis.agentMailSandbox = undefined;
	await sandbox.stop();
	if (process.env.AGENTMAIL_SANDBOX_KEEP) {
		process.stderr.write(
			`AGENTMAIL_SANDBOX_KEEP is set: the sandbox folder stays at ${sandbox.dir}\n`,
		);
		return;
	}
	await rm(sandbox.dir, { recursive: true, force: true });
}
