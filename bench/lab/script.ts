/** What every bench script shares: how it ends, and the built trigger it measures. */
import path from 'node:path';

import type { INodeType } from 'n8n-workflow';

/**
 * Runs a script's main and exits: 0 when it resolves, 1 with the stack when it rejects (open
 * handles such as an idling IMAP client must not keep the process alive).
 */
export function runScript(name: string, main: () => Promise<void>): void {
	main().then(
		() => process.exit(0),
		(error: Error) => {
			process.stderr.write(`${name} failed: ${error.stack ?? error.message}\n`);
			process.exit(1);
		},
	);
}

/** The value after `--name` on the command line, if given. */
export function argument(name: string): string | undefined {
	const index = process.argv.indexOf(`--${name}`);
	return index > 0 ? process.argv[index + 1] : undefined;
}

/** A new AgentMail Trigger from the built package (`npm run build` first), as n8n loads it. */
export async function loadBuiltTrigger(): Promise<INodeType> {
	const file = path.join(__dirname, '../../dist/nodes/AgentMailTrigger/AgentMailTrigger.node.js');
	const { AgentMailTrigger } = (await import(file)) as {
		AgentMailTrigger: new () => INodeType;
	};
	return new AgentMailTrigger();
}
