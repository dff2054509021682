import { startTemporarySandbox, type Sandbox } from '../sandbox/sandbox';

declare global {
	// Shared between globalSetup and globalTeardown, which jest runs in the same process.
	var agentMailSandbox: Sandbox | undefined;
}

/**
 * Starts one sandbox for the whole jest run, in a fresh temporary folder on free ports, and
 * publishes its sandbox.json as AGENTMAIL_SANDBOX_JSON (the test workers inherit it).
 */
export default async function globalSetup(): Promise<void> {
	const sandbox = await startTemporarySandbox();
	globalThis.agentMailSandbox = sandbox;
	process.env.AGENTMAIL_SANDBOX_JSON = sandbox.infoPath;
}
