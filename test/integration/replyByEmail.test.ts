/**
 * Send and Wait's Reply by Email with real peers: the question goes out over the sandbox's
 * SMTP from the node, the replies arrive in the sandbox's Dovecot, the AgentMail Trigger
 * watches it, and its hand-overs reach the node's real webhook code through a real HTTP server
 * standing in for n8n's waiting-webhook endpoint (it serves the webhook while the execution
 * waits, and n8n's "no action required" page after, as n8n does).
 */
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import type {
	IDataObject,
	INodeExecutionData,
	IWebhookFunctions,
	IWebhookResponseData,
} from 'n8n-workflow';

import { AgentMail } from '../../nodes/AgentMail/AgentMail.node';
import { sendAndWaitWebhook } from '../../nodes/AgentMail/actions/message/sendAndWait.webhook';
import type { FetchedMessage } from '../../nodes/shared/fetchedMessage';
import { offerReply } from '../../nodes/shared/sendAndWait/replyHandOff';
import {
	credentialData,
	deliver,
	imapClient,
	listMessages,
	useOwnSandbox,
} from '../helpers/sandbox';
import { runNode, type HarnessLog } from '../helpers/nodeHarness';
import { activateTrigger, type ActiveTrigger } from '../../tools/triggerHarness';
import { waitFor } from '../../tools/wait';

const agent = 'agent@agentmail.test';
const boss = 'boss@outside.example';
/** Each test is its own execution (Send Once keys a question by it). */
let execution = 40;
beforeEach(() => {
	execution++;
});
const NODE_ID = 'test-node';
const SECRET = 'test-hmac-secret';

useOwnSandbox();

/** n8n's signed resume URL for this execution and node (its scheme: HMAC of path and query). */
function signedResumeUrl(port: number, parameters: Record<string, string> = {}): string {
	const url = new URL(`http://localhost:${port}/webhook-waiting/${execution}/${NODE_ID}`);
	for (const [name, value] of Object.entries(parameters)) url.searchParams.set(name, value);
	const signature = createHmac('sha256', SECRET)
		.update(`${url.pathname}${url.search}`)
		.digest('hex');
	url.searchParams.set('signature', signature);
	return url.toString();
}

/** The resume URL replies are handed over to. */
const replyUrl = (port: number) => signedResumeUrl(port, { reply: '1' });

interface FakeN8n {
	port: number;
	/** While true the execution waits: hand-overs reach the node's webhook. */
	waiting: boolean;
	/** What the webhook resumed the execution with. */
	resumedWith: INodeExecutionData[][];
	logs: HarnessLog[];
	requests: number;
	/** Answer every request with this status instead (n8n refusing it). */
	refuseWith?: number;
	close(): Promise<void>;
}

const questionParameters = (overrides: Record<string, unknown> = {}) => ({
	resource: 'message',
	operation: 'sendAndWait',
	sendTo: `Boss <${boss}>`,
	subject: 'Refund order 1042?',
	message: 'May I refund order 1042?',
	responseType: 'approval',
	replyByEmail: true,
	options: {},
	...overrides,
});

/** A real HTTP server in n8n's place, running the node's webhook on each request. */
async function startFakeN8n(parameters: Record<string, unknown>, port = 0): Promise<FakeN8n> {
	const fake: FakeN8n = {
		port: 0,
		waiting: true,
		resumedWith: [],
		logs: [],
		requests: 0,
		close: async () => await new Promise<void>((resolve) => server.close(() => resolve())),
	};
	const server: Server = createServer((req, res) => {
		const chunks: Buffer[] = [];
		req.on('data', (chunk: Buffer) => chunks.push(chunk));
		req.on('end', () => {
			fake.requests++;
			const url = new URL(req.url ?? '/', 'http://localhost');
			const expected = new URL(replyUrl(fake.port));
			if (fake.refuseWith) {
				res.statusCode = fake.refuseWith;
				res.end('refused');
				return;
			}
			// n8n's own checks: the path and signature it signed, and only while it waits.
			if (url.pathname !== expected.pathname || url.search !== expected.search) {
				res.statusCode = 401;
				res.end('Invalid token');
				return;
			}
			if (!fake.waiting) {
				res.setHeader('content-type', 'text/html');
				res.end('<p>No action required</p>');
				return;
			}
			const body = JSON.parse(Buffer.concat(chunks).toString() || '{}') as IDataObject;
			const log = (level: string) => (message: string, meta?: unknown) =>
				fake.logs.push({ level, message, meta });
			const response = {
				setHeader: (name: string, value: string) => res.setHeader(name, value),
				status: (code: number) => {
					res.statusCode = code;
					return response;
				},
				json: (value: unknown) => {
					res.setHeader('content-type', 'application/json');
					res.end(JSON.stringify(value));
				},
				send: (value: string) => res.end(value),
				end: () => res.end(),
			};
			const params = parameters;
			const ctx = {
				getRequestObject: () => ({
					method: req.method,
					url: req.url,
					originalUrl: req.url,
					headers: req.headers,
					query: Object.fromEntries(url.searchParams),
				}),
				getResponseObject: () => response,
				getBodyData: () => body,
				getNode: () => ({ id: NODE_ID, name: 'AgentMail' }),
				getNodeParameter: (name: string, fallback?: unknown) =>
					name in params ? params[name] : fallback,
				getCredentials: async () => credentialData(agent),
				logger: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') },
				helpers: {
					prepareBinaryData: async (content: Buffer, fileName?: string, mimeType?: string) => ({
						data: Buffer.from(content).toString('base64'),
						fileName,
						mimeType,
					}),
				},
			} as unknown as IWebhookFunctions;
			void (sendAndWaitWebhook.call(ctx) as Promise<IWebhookResponseData>).then(
				(result) => {
					if (result.workflowData) {
						fake.resumedWith.push(...result.workflowData);
						// As n8n: once resumed, the execution no longer waits.
						fake.waiting = false;
					}
				},
				(error: Error) => {
					res.statusCode = 500;
					res.end(error.message);
				},
			);
		});
	});
	await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
	fake.port = (server.address() as AddressInfo).port;
	return fake;
}

/** Runs Send and Wait in the node harness, as n8n would with this resume URL. */
async function ask(port: number, parameters: Record<string, unknown>) {
	const waits: Date[] = [];
	const run = await runNode({
		node: new AgentMail(),
		credentials: credentialData(agent),
		parameters,
		items: [{ json: {} }],
		extra: {
			getExecutionId: () => String(execution),
			getSignedResumeUrl: (parameters?: Record<string, string>) =>
				signedResumeUrl(port, parameters),
			putExecutionToWait: async (until: Date) => {
				waits.push(until);
			},
		},
	});
	return { ...run, waits, item: run.output[0][0].json };
}

/** A reply to `questionId` from `from`, with `text` above the quoted question. */
function reply(questionId: string, from: string, text: string, subject = 'Re: Refund order 1042?') {
	const id = `<reply.${Math.random().toString(36).slice(2)}@outside.example>`;
	return {
		id,
		raw: [
			`From: ${from}`,
			`To: ${agent}`,
			`Subject: ${subject}`,
			`Message-ID: ${id}`,
			`In-Reply-To: ${questionId}`,
			`References: ${questionId}`,
			'Date: Mon, 07 Dec 2026 10:00:00 +0000',
			'',
			text,
			'',
			'On Mon, 7 Dec 2026, agent wrote:',
			'> May I refund order 1042?',
			'',
		].join('\r\n'),
	};
}

let fake: FakeN8n | undefined;
let trigger: ActiveTrigger | undefined;
const savedPort = process.env.N8N_PORT;

afterEach(async () => {
	await trigger?.close();
	trigger = undefined;
	await fake?.close();
	fake = undefined;
	process.env.N8N_PORT = savedPort;
});

/** n8n in place, the trigger active on the inbox, and the question asked. */
async function askWithTrigger(parameters: Record<string, unknown>) {
	fake = await startFakeN8n(parameters);
	process.env.N8N_PORT = String(fake.port);
	trigger = await activateTrigger({ credentials: credentialData(agent) });
	return { asked: await ask(fake.port, parameters), n8n: fake, active: trigger };
}

/** A message as the trigger's session hands it over. */
function fetched(raw: string, uid: number, uidValidity: string): FetchedMessage {
	const source = Buffer.from(raw);
	return {
		uid,
		uidValidity,
		folder: 'INBOX',
		messageId: null,
		flags: [],
		size: source.length,
		internalDate: null,
		source,
		headers: Buffer.alloc(0),
	};
}

/** A logger that keeps its warnings (with their details) in `warnings`. */
function warningLogger(warnings: string[]) {
	const ignore = () => undefined;
	return {
		debug: ignore,
		info: ignore,
		error: ignore,
		warn: (m: string, meta?: unknown) => warnings.push(`${m} ${JSON.stringify(meta)}`),
	};
}

const subjects = (t: ActiveTrigger) => t.items().map((item) => item.json.subject);

it('refuses to ask, before sending, when no AgentMail Trigger watches the inbox', async () => {
	fake = await startFakeN8n(questionParameters());
	process.env.N8N_PORT = String(fake.port);
	const sentBefore = (await listMessages(agent, 'Sent')).length;
	await expect(ask(fake.port, questionParameters())).rejects.toThrow(
		/needs an active AgentMail Trigger on agent@agentmail\.test watching INBOX/,
	);
	expect((await listMessages(agent, 'Sent')).length).toBe(sentBefore);
});

it('resumes with the first reply of a recipient, starts no trigger run with it, and leaves a stranger’s and a second reply to the trigger', async () => {
	const parameters = questionParameters();
	const { asked, n8n, active } = await askWithTrigger(parameters);
	expect(asked.item.sent).toBe(true);
	expect(asked.waits).toHaveLength(1);
	const questionId = String(asked.item.messageId);
	expect(questionId).toMatch(new RegExp(`^<n8nwait\\.${execution}\\.`));

	// A stranger's reply to the question is not the answer: the trigger runs with it.
	const stranger = reply(questionId, 'Mallory <mallory@outside.example>', 'Yes');
	await deliver(agent, stranger.raw);
	await waitFor('the stranger’s reply to be emitted', () => active.items().length === 1);
	expect(active.items()[0].json.messageId).toBe(stranger.id);
	expect(n8n.resumedWith).toHaveLength(0);

	// The boss's reply resumes the execution and starts no run.
	const answer = reply(questionId, `Boss <${boss}>`, 'Yes, go ahead.\r\nThanks');
	await deliver(agent, answer.raw);
	await waitFor('the execution to resume', () => n8n.resumedWith.length === 1);
	const [resumed] = n8n.resumedWith[0];
	expect(resumed.json.data).toMatchObject({ approved: true, text: 'Yes, go ahead.\nThanks' });
	expect(resumed.json).toMatchObject({ messageId: answer.id, inReplyTo: questionId });
	expect((resumed.json.from as IDataObject).address).toBe(boss);

	// A second reply, and unrelated mail: both are the trigger's.
	const second = reply(questionId, `Boss <${boss}>`, 'No, wait!');
	await deliver(agent, second.raw);
	await deliver(agent, reply('<other@outside.example>', `Boss <${boss}>`, 'Lunch?', 'Lunch').raw);
	await waitFor('the second reply and the lunch mail', () => active.items().length === 3);
	expect(active.items().map((i) => i.json.messageId)).not.toContain(answer.id);
	expect(active.items()[1].json.messageId).toBe(second.id);
	expect(subjects(active)[2]).toBe('Lunch');
	expect(n8n.resumedWith).toHaveLength(1);

	// The signature (masked in the Message-ID) is in no log line, output or item.
	const signature = new URL(replyUrl(n8n.port)).searchParams.get('signature')!;
	const seen = JSON.stringify([active.logs, n8n.logs, asked.logs, asked.output, n8n.resumedWith]);
	expect(seen).not.toContain(signature);
	expect(JSON.stringify(active.items())).not.toContain(signature);
});

it('two triggers on the inbox: the reply is offered once, resumes the execution, and starts a run in neither', async () => {
	const { asked, n8n, active } = await askWithTrigger(questionParameters());
	const second = await activateTrigger({ credentials: credentialData(agent) });
	try {
		const questionId = String(asked.item.messageId);
		const answer = reply(questionId, `Boss <${boss}>`, 'Yes, go ahead.');
		await deliver(agent, answer.raw);
		await waitFor('the execution to resume', () => n8n.resumedWith.length === 1);
		// Mail after it reaches both: each has seen the reply by then, and neither emitted it.
		await deliver(agent, reply('<other@outside.example>', `Boss <${boss}>`, 'Lunch?', 'Lunch').raw);
		await waitFor(
			'the mail after the reply in both triggers',
			() => active.items().length === 1 && second.items().length === 1,
		);
		expect(subjects(active)).toEqual(['Lunch']);
		expect(subjects(second)).toEqual(['Lunch']);
		expect(n8n.requests).toBe(1);
		expect(n8n.resumedWith).toHaveLength(1);
	} finally {
		await second.close();
	}
});

it('keeps Send Once: the same execution asking again finds its question in Sent by the token Message-ID', async () => {
	const parameters = questionParameters();
	fake = await startFakeN8n(parameters);
	process.env.N8N_PORT = String(fake.port);
	trigger = await activateTrigger({ credentials: credentialData(agent) });
	const first = await ask(fake.port, { ...parameters, subject: 'Asked once' });
	const again = await ask(fake.port, { ...parameters, subject: 'Asked once' });
	expect(first.item.sent).toBe(true);
	expect(again.item).toMatchObject({
		sent: false,
		alreadySent: true,
		messageId: first.item.messageId,
	});
	expect(
		(await listMessages(agent, 'Sent')).filter((m) => m.subject === 'Asked once'),
	).toHaveLength(1);
});

it('reads an undecided reply as text without a decision', async () => {
	const parameters = questionParameters({
		options: { approveWords: 'ship it', declineWords: 'hold' },
	});
	const { asked, n8n, active } = await askWithTrigger(parameters);
	// Custom words: "yes" is no longer one of them.
	await deliver(agent, reply(String(asked.item.messageId), boss, 'Yes, but only half of it').raw);
	await waitFor('the execution to resume', () => n8n.resumedWith.length === 1);
	const data = n8n.resumedWith[0][0].json.data as IDataObject;
	expect(data).not.toHaveProperty('approved');
	expect(data.text).toBe('Yes, but only half of it');
	expect(data.chatInput).toBe('Yes, but only half of it');
	expect(active.items()).toHaveLength(0);
});

it('the replies’ resume URL takes no answer from a page, only the trigger’s hand-over', async () => {
	const parameters = questionParameters();
	const { n8n } = await askWithTrigger(parameters);
	const browser = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36';
	for (const method of ['GET', 'POST']) {
		const response = await fetch(replyUrl(n8n.port), {
			method,
			headers: { 'user-agent': browser, 'content-type': 'application/json' },
			...(method === 'POST' ? { body: '{}' } : {}),
		});
		expect(response.status).toBe(204);
	}
	expect(n8n.resumedWith).toHaveLength(0);
});

it('emits the reply normally when n8n refuses the hand-over', async () => {
	const parameters = questionParameters();
	const { asked, n8n, active } = await askWithTrigger(parameters);
	n8n.refuseWith = 409;
	const answer = reply(String(asked.item.messageId), boss, 'Yes');
	await deliver(agent, answer.raw);
	await waitFor('the reply to be emitted', () => active.items().length === 1);
	expect(active.items()[0].json.messageId).toBe(answer.id);
	expect(n8n.requests).toBe(1);
	expect(n8n.resumedWith).toHaveLength(0);
});

it('tries again while n8n is not listening yet, and hands the reply over once it is', async () => {
	const parameters = questionParameters({ responseType: 'freeText' });
	const { asked, n8n, active } = await askWithTrigger(parameters);
	await active.close();
	trigger = undefined;
	const answer = reply(String(asked.item.messageId), boss, 'Refund half, please.');
	await deliver(agent, answer.raw);
	const client = await imapClient(agent);
	const box = await client.mailboxOpen('INBOX', { readOnly: true });
	const uidValidity = String(box.uidValidity);
	await client.logout();
	const [listed] = (await listMessages(agent, 'INBOX')).slice(-1);
	const message = fetched(answer.raw, listed.uid, uidValidity);
	// n8n's HTTP server is down: the port refuses connections for a while, then it listens.
	const port = n8n.port;
	await n8n.close();
	const warnings: string[] = [];
	const logger = warningLogger(warnings);
	const offered = offerReply(message, {
		logger,
		env: { N8N_PORT: String(port) },
		apiKey: String(credentialData(agent).apiKey),
		retryForMs: 20_000,
		pauseMs: 200,
	});
	await new Promise((resolve) => setTimeout(resolve, 1_000));
	const restarted = await startFakeN8n(parameters, port);
	fake = restarted;
	await expect(offered).resolves.toBe('taken');
	expect(restarted.resumedWith[0][0].json.data).toMatchObject({ text: 'Refund half, please.' });
	expect(restarted.resumedWith[0][0].json.data).not.toHaveProperty('approved');
	expect(warnings).toHaveLength(0);
});

it('gives up on a server that never listens within the retry time and leaves the reply to the trigger', async () => {
	const message = fetched(
		reply('<n8nwait.7.74.' + 'a'.repeat(64) + '@agentmail.test>', boss, 'Yes').raw,
		1,
		'1',
	);
	const probe = createServer();
	await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
	const port = (probe.address() as AddressInfo).port;
	await new Promise<void>((resolve) => probe.close(() => resolve()));
	const warnings: string[] = [];
	const logger = warningLogger(warnings);
	await expect(
		offerReply(message, {
			logger,
			env: { N8N_PORT: String(port) },
			apiKey: String(credentialData(agent).apiKey),
			retryForMs: 600,
			pauseMs: 100,
		}),
	).resolves.toBe('emit');
	expect(warnings).toHaveLength(1);
	expect(warnings[0]).not.toContain('a'.repeat(64));
});
