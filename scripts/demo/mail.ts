/**
 * `npm run demo:mail [subject]`: mails the demo inbox (agent@agentmail.test) from
 * peer@agentmail.test through the running sandbox (the default folder .sandbox/, as `npm run dev`
 * and `npm run sandbox:start` use it), then waits for the auto-reply agent's answer in peer's
 * INBOX and shows it. `--no-wait` only delivers.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { ImapFlow } from 'imapflow';
import { simpleParser } from 'mailparser';

import { deliver } from '../../tools/sandbox/deliver';
import {
	readSandboxInfo,
	SANDBOX_FILES,
	sandboxDir,
	type SandboxInfo,
} from '../../tools/sandbox/info';

/** The auto-reply agent answers within seconds; n8n may still be starting its trigger. */
const REPLY_TIMEOUT_MS = 60_000;
/** Pause between two looks at peer's INBOX. */
const POLL_INTERVAL_MS = 1_000;

const AGENT = 'agent@agentmail.test';
const PEER = 'peer@agentmail.test';
const DEFAULT_SUBJECT = 'Where is my order #1042?';

function say(line: string): void {
	process.stdout.write(`${line}\n`);
}

function sampleMail(subject: string): { raw: string; messageId: string } {
	const messageId = `<demo.${randomBytes(8).toString('hex')}@agentmail.test>`;
	const raw = [
		`From: Pat Peer <${PEER}>`,
		`To: Demo Agent <${AGENT}>`,
		`Subject: ${subject}`,
		`Message-ID: ${messageId}`,
		`Date: ${new Date().toUTCString()}`,
		'MIME-Version: 1.0',
		'Content-Type: text/plain; charset=utf-8',
		'',
		'Hello,',
		'',
		'I ordered a blue teapot last week and have not heard back. Could you tell me when it ships?',
		'',
		'Thanks, Pat',
		'',
	].join('\r\n');
	return { raw, messageId };
}

/** The reply to `messageId` in peer's INBOX, if it is there yet. */
async function findReply(
	info: SandboxInfo,
	messageId: string,
): Promise<{ subject?: string; text?: string } | undefined> {
	const inbox = info.inboxes.find((candidate) => candidate.address === PEER);
	if (!inbox) throw new Error(`the sandbox has no inbox ${PEER}`);
	const client = new ImapFlow({
		host: info.imap.host,
		port: info.imap.port,
		secure: true,
		auth: { user: PEER, pass: inbox.apiKey },
		tls: { ca: readFileSync(info.ca) },
		logger: false,
	});
	client.on('error', () => undefined);
	await client.connect();
	try {
		const mailbox = await client.mailboxOpen('INBOX', { readOnly: true });
		if (mailbox.exists === 0) return undefined;
		const messages = await client.fetchAll('1:*', { source: true });
		for (const message of messages.reverse()) {
			if (!message.source) continue;
			const parsed = await simpleParser(message.source);
			if (parsed.inReplyTo === messageId) return { subject: parsed.subject, text: parsed.text };
		}
		return undefined;
	} finally {
		await client.logout();
	}
}

async function main(): Promise<void> {
	const args = process.argv.slice(2);
	const wait = !args.includes('--no-wait');
	const subject = args.filter((arg) => arg !== '--no-wait').join(' ') || DEFAULT_SUBJECT;
	const info = readSandboxInfo(path.join(sandboxDir(), SANDBOX_FILES.info));
	const { raw, messageId } = sampleMail(subject);
	await deliver(info, AGENT, raw);
	say(`Delivered "${subject}" from ${PEER} to ${AGENT}.`);
	if (!wait) {
		say(`The auto-reply agent's answer will appear in ${PEER}'s INBOX.`);
		return;
	}
	say(`Waiting for the auto-reply agent's answer in ${PEER}'s INBOX ...`);
	const deadline = Date.now() + REPLY_TIMEOUT_MS;
	for (;;) {
		const reply = await findReply(info, messageId);
		if (reply) {
			say(`Reply received: "${reply.subject ?? ''}"`);
			for (const line of (reply.text ?? '').trimEnd().split('\n'))
				say(line ? `  | ${line}` : '  |');
			return;
		}
		if (Date.now() > deadline) {
			throw new Error(
				`no reply within ${REPLY_TIMEOUT_MS / 1000} s: is npm run dev running, with the auto-reply agent active? (see its Executions in the editor)`,
			);
		}
		await new Promise<void>((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
	}
}

main().then(undefined, (error: unknown) => {
	process.stderr.write(
		`demo:mail failed: ${error instanceof Error ? error.message : String(error)}\n`,
	);
	process.exitCode = 1;
});
