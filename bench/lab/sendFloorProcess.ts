/**
 * The send floor in a process of its own, as n8n is: reads `{ info, address, messages }` as JSON
 * on stdin, sends the messages through one pooled nodemailer connection (sendWithBarePool) and
 * writes the elapsed ms on stdout. In the bench's own process the floor shares an event loop
 * with the sandbox's SMTP server, which no real client does (on 2026-11-24 the two came out
 * alike). Started by {@link sendWithBarePoolInOwnProcess}.
 */
import { sendWithBarePool } from './floor';
import type { SandboxInfo } from '../../tools/sandbox/info';

async function readStdin(): Promise<string> {
	const chunks: Buffer[] = [];
	for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
	return Buffer.concat(chunks).toString('utf8');
}

async function main(): Promise<void> {
	const { info, address, messages } = JSON.parse(await readStdin()) as {
		info: SandboxInfo;
		address: string;
		messages: Array<{ to: string; subject: string; text: string }>;
	};
	const elapsed = await sendWithBarePool(info, address, messages);
	process.stdout.write(`${elapsed}\n`);
}

main().catch((error: unknown) => {
	process.stderr.write(
		`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
	);
	process.exitCode = 1;
});
