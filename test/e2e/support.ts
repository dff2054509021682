/**
 * What the end-to-end test files share: building the package when needed, waiting for
 * outcomes, and progress lines.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { simpleParser } from 'mailparser';
import { chromium, type Browser } from 'playwright-core';

import { CREDENTIAL_TYPE, waitForTriggerStart } from '../../tools/n8n/demo';
import { installN8n } from '../../tools/n8n/install';
import {
	N8nClient,
	startN8n,
	type N8nServer,
	type OwnerAccount,
	type WorkflowInput,
} from '../../tools/n8n/server';
import { startProxy, type SilentProxy } from '../../tools/proxy';
import { credentialData, listMessages } from '../helpers/sandbox';
import { freePorts } from '../../tools/sandbox/sandbox';
import { ensureBuilt } from '../../tools/n8n/build';
import { WAIT_TIMEOUT_MS, waitFor } from '../../tools/wait';
import { CHROMIUM } from '../../tools/sandbox/systemPackages';

/** beforeAll of an n8n test: a first install of n8n takes about 4 minutes here; CI allows 90. */
export const SETUP_TIMEOUT_MS = 45 * 60_000;
/** Stopping n8n at the end of a test file. */
export const TEARDOWN_TIMEOUT_MS = 2 * 60_000;
/** Waiting for runs and replies to appear. */
export const OUTCOME_TIMEOUT_MS = 60_000;
/** Pause between two looks at executions or mailboxes. */
const POLL_INTERVAL_MS = 500;

export { ensureBuilt };

export const PROJECT_ROOT = path.resolve(__dirname, '..', '..');

export function say(line: string): void {
	process.stdout.write(`[e2e] ${line}\n`);
}

/**
 * {@link waitFor} at the pace of an end-to-end test: n8n's API and the mailboxes are asked
 * every {@link POLL_INTERVAL_MS}, for up to {@link OUTCOME_TIMEOUT_MS} unless told.
 */
export async function waitForOutcome<T>(
	what: string,
	check: () => Promise<T>,
	timeoutMs = OUTCOME_TIMEOUT_MS,
): Promise<Exclude<T, undefined | false>> {
	return await waitFor(what, check, timeoutMs, POLL_INTERVAL_MS);
}

/** The owner account of a fresh n8n; its password is made up at run time. */
export function makeOwner(): OwnerAccount {
	return {
		email: 'owner@example.com',
		password: `E2e-${randomBytes(12).toString('hex')}`,
		firstName: 'E2E',
		lastName: 'Owner',
	};
}

/**
 * Makes a fresh n8n usable over its APIs: creates the owner, logs in, creates a public-API key
 * and the AgentMail credential of a sandbox inbox, which it returns.
 */
export async function setUpN8n(
	client: N8nClient,
	owner: OwnerAccount,
	inbox: string,
): Promise<{ id: string; name: string }> {
	await client.setupOwner(owner);
	await client.login(owner.email, owner.password);
	await client.createApiKey('e2e');
	const name = `AgentMail ${inbox} (sandbox)`;
	return { id: await client.createCredential(name, CREDENTIAL_TYPE, credentialData(inbox)), name };
}

/** The sandbox inbox the end-to-end mails come from. */
export const PEER = 'peer@agentmail.test';
/** The sandbox inbox the workflows under test own. */
export const AGENT = 'agent@agentmail.test';

/** The header lines (all but Content-Type) of a mail from {@link PEER} to {@link AGENT}. */
export function peerMailHeaders(subject: string, messageId: string): string[] {
	return [
		`From: Peer <${PEER}>`,
		`To: Agent <${AGENT}>`,
		`Subject: ${subject}`,
		`Message-ID: ${messageId}`,
		`Date: ${new Date().toUTCString()}`,
		'MIME-Version: 1.0',
	];
}

/** How {@link useOwnN8n} runs n8n. */
export interface OwnN8nOptions {
	/**
	 * n8n's public address is a proxy on another port (WEBHOOK_URL points there), as behind a
	 * reverse proxy: the links n8n makes go through it. The client still talks to n8n itself.
	 */
	behindProxy?: boolean;
	/** More environment for n8n. */
	env?: Record<string, string>;
}

/**
 * Gives the calling test file an n8n of its own, with this package built and loaded, in a
 * fresh user folder (kept when AGENTMAIL_E2E_KEEP is set); returns its client.
 */
export function useOwnN8n(folderPrefix: string, options: OwnN8nOptions = {}): () => N8nClient {
	let userFolder: string | undefined;
	let server: N8nServer | undefined;
	let proxy: SilentProxy | undefined;
	let client: N8nClient | undefined;
	beforeAll(async () => {
		await ensureBuilt();
		await installN8n({ log: say });
		userFolder = await mkdtemp(path.join(os.tmpdir(), folderPrefix));
		const [port, brokerPort] = await freePorts(2);
		const env = { ...options.env };
		if (options.behindProxy) {
			proxy = await startProxy('127.0.0.1', port);
			env.WEBHOOK_URL = `http://127.0.0.1:${proxy.port}/`;
		}
		server = await startN8n({ userFolder, port, brokerPort, env });
		client = new N8nClient(server.url);
	}, SETUP_TIMEOUT_MS);
	afterAll(async () => {
		await server?.stop();
		await proxy?.close();
		if (userFolder && !process.env.AGENTMAIL_E2E_KEEP) {
			await rm(userFolder, { recursive: true, force: true });
		}
	}, TEARDOWN_TIMEOUT_MS);
	return () => {
		if (!client) throw new Error('useOwnN8n: n8n is not started yet (use it inside tests)');
		return client;
	};
}

/** A plain mail from {@link PEER} to the agent with a Message-ID of its own. */
export function mailFromPeer(subject: string): { raw: string; messageId: string } {
	const messageId = `<e2e.${randomBytes(8).toString('hex')}@agentmail.test>`;
	const raw = [
		...peerMailHeaders(subject, messageId),
		'Content-Type: text/plain; charset=utf-8',
		'',
		`Hello agent, this is "${subject}".`,
		'',
	].join('\r\n');
	return { raw, messageId };
}

/** A reply as {@link repliesToPeer} reads it. */
export interface Reply {
	inReplyTo?: string;
	subject?: string;
	text?: string;
}

/** The replies in {@link PEER}'s INBOX (everything there comes from the agent). */
export async function repliesToPeer(): Promise<Reply[]> {
	const messages = await listMessages(PEER, 'INBOX');
	return await Promise.all(
		messages.map(async (message) => {
			const parsed = await simpleParser(message.source);
			return { inReplyTo: parsed.inReplyTo, subject: parsed.subject, text: parsed.text };
		}),
	);
}

/** Waits until the mail with `messageId` in {@link AGENT}'s INBOX has the \Seen flag. */
export async function waitUntilRead(messageId: string, what: string): Promise<void> {
	await waitFor(what, async () => {
		const inbox = await listMessages(AGENT, 'INBOX');
		const original = inbox.find((message) => message.messageId === messageId);
		return original?.flags.includes('\\Seen') ? true : undefined;
	});
}

/**
 * Makes the workflow's node named Reply fail, deterministically, for a mail whose subject
 * contains "fail": its custom header's name is then not a valid header name, which the node
 * refuses. Changes the workflow in place and returns it.
 */
export function failReplyWhenSubjectSaysFail(workflow: WorkflowInput): WorkflowInput {
	const reply = (workflow.nodes as Array<{ name: string; parameters: object }>).find(
		(node) => node.name === 'Reply',
	);
	if (!reply) throw new Error(`the workflow "${workflow.name}" has no node named Reply`);
	reply.parameters = {
		...reply.parameters,
		options: {
			customHeaders: {
				header: [
					{
						name: "={{ $json.subject.includes('fail') ? 'Not A Header' : 'X-Check' }}",
						value: 'ok',
					},
				],
			},
		},
	};
	return workflow;
}

/**
 * Makes `workflow` the inbox's one active workflow: deactivates `previousId` (if any), creates
 * and activates the new one, and waits until its trigger `triggerNode` has started. Returns the
 * new workflow's id.
 */
export async function activateAlone(
	client: N8nClient,
	previousId: string | undefined,
	workflow: WorkflowInput,
	triggerNode: string,
): Promise<string> {
	if (previousId) await client.deactivateWorkflow(previousId);
	const workflowId = await client.createWorkflow(workflow);
	await client.activateWorkflow(workflowId);
	await waitForTriggerStart(client, workflowId, triggerNode, OUTCOME_TIMEOUT_MS);
	return workflowId;
}

/** Stops n8n and removes its user folder, unless AGENTMAIL_E2E_KEEP asks to keep it. */
export async function stopN8n(
	server: N8nServer | undefined,
	userFolder: string | undefined,
): Promise<void> {
	await server?.stop();
	if (userFolder && !process.env.AGENTMAIL_E2E_KEEP) {
		await rm(userFolder, { recursive: true, force: true });
	}
}

/** Starting Debian's Chromium; slow on a busy 2-core machine. */
const BROWSER_LAUNCH_TIMEOUT_MS = 60_000;
/** Headless, and quiet: no network of its own, no updates or sync. */
const CHROMIUM_ARGS = [
	'--headless',
	'--no-sandbox',
	'--disable-gpu',
	'--disable-quic',
	'--no-first-run',
	'--disable-background-networking',
	'--disable-component-update',
	'--disable-sync',
];

/** Debian's headless Chromium through Playwright (which never downloads a browser). */
export async function launchChromium(): Promise<Browser> {
	if (!existsSync(CHROMIUM)) {
		throw new Error(
			`${CHROMIUM} is missing: install Debian's Chromium with ` +
				'`apt-get install -y --no-install-recommends chromium` (as root)',
		);
	}
	return await chromium.launch({
		executablePath: CHROMIUM,
		args: CHROMIUM_ARGS,
		timeout: BROWSER_LAUNCH_TIMEOUT_MS,
	});
}

/** n8n's Webhook trigger (POST `webhookPath`, answering at once), as a workflow holds it. */
export function webhookNode(webhookPath: string) {
	return {
		id: randomUUID(),
		name: 'Webhook',
		type: 'n8n-nodes-base.webhook',
		typeVersion: 2,
		position: [0, 0] as [number, number],
		webhookId: randomUUID(),
		parameters: { httpMethod: 'POST', path: webhookPath, responseMode: 'onReceived', options: {} },
	};
}

/** Posts to an activated workflow's webhook until n8n has registered it. */
export async function startByWebhook(
	baseUrl: string,
	webhookPath: string,
	body: Record<string, unknown>,
) {
	await new N8nClient(baseUrl).postWebhook(webhookPath, body, {
		registerTimeoutMs: WAIT_TIMEOUT_MS,
	});
}
