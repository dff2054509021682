/**
 * End to end: the built package inside a real n8n (the pinned version, installed into the
 * project's cache folder on first use), against a sandbox of its own. n8n loads the package
 * from its community-nodes folder as users get it; everything is driven over n8n's REST and
 * public APIs.
 *
 * The package must be built: when dist/ is missing or older than the sources, `npm run build`
 * runs first. When n8n is not installed yet, it is installed (several minutes, then cached).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { installN8n } from '../../tools/n8n/install';
import {
	N8nClient,
	startN8n,
	type Execution,
	type N8nServer,
	type WorkflowInput,
} from '../../tools/n8n/server';
import {
	messageText,
	startFakeOpenAi,
	type ChatRequest,
	type FakeOpenAi,
	type ScriptedAnswer,
} from '../helpers/fakeOpenAi';
import { credentialData, deliver, listMessages, useOwnSandbox } from '../helpers/sandbox';
import { freePorts } from '../../tools/sandbox/sandbox';
import { agentWorkflow, fakeOpenAiCredential } from './agent';
import {
	activateAlone,
	AGENT,
	ensureBuilt,
	failReplyWhenSubjectSaysFail,
	mailFromPeer,
	makeOwner,
	PEER,
	repliesToPeer,
	say,
	SETUP_TIMEOUT_MS,
	setUpN8n,
	waitForOutcome,
	waitUntilRead,
} from './support';

/** One test: n8n restarts in 5-15 s, a run takes well under a second. */
const TEST_TIMEOUT_MS = 3 * 60_000;
/** After the expected runs, how long nothing more may happen. */
const QUIET_PERIOD_MS = 5_000;
/** Stopping n8n and the sandbox at the end. */
const TEARDOWN_TIMEOUT_MS = 2 * 60_000;

const PACKAGE = 'n8n-nodes-agentmail-inbox';
const CREDENTIAL_TYPE = 'agentMailInboxApi';
const TRIGGER_NODE = 'AgentMail Trigger';
const REPLY_TEXT = 'Thanks for your mail: the agent has it.';
/** What the scripted model answers the peer through the AgentMail tool. */
const AI_REPLY_TEXT = 'Our opening hours are 9 to 5, Monday to Friday.';
/** The model's last word once the tool has answered. */
const AI_DONE_TEXT = 'I have answered the mail.';

useOwnSandbox();

/** The AgentMail Trigger on INBOX that marks each mail read after a successful run. */
function triggerNode(credentials: Record<string, { id: string; name: string }>) {
	return {
		id: 'a1b2c3d4-0000-4000-8000-000000000001',
		name: TRIGGER_NODE,
		type: `${PACKAGE}.agentMailTrigger`,
		typeVersion: 1,
		position: [0, 0],
		parameters: { folder: 'INBOX', afterRun: 'markRead' },
		credentials,
	};
}

/** The workflow the README calls the auto-reply agent. */
function autoReplyWorkflow(credential: { id: string; name: string }): WorkflowInput {
	const credentials = { [CREDENTIAL_TYPE]: credential };
	return {
		name: 'Auto-reply agent (e2e)',
		nodes: [
			triggerNode(credentials),
			{
				id: 'a1b2c3d4-0000-4000-8000-000000000002',
				name: 'Reply',
				type: `${PACKAGE}.agentMail`,
				typeVersion: 1,
				position: [300, 0],
				parameters: {
					resource: 'message',
					operation: 'reply',
					source: 'inputItem',
					emailFormat: 'text',
					text: REPLY_TEXT,
				},
				credentials,
			},
		],
		connections: {
			[TRIGGER_NODE]: { main: [[{ node: 'Reply', type: 'main', index: 0 }]] },
		},
	};
}

/** Trigger → Reply whose reply step fails for a mail whose subject contains "fail". */
function failingReplyWorkflow(credential: { id: string; name: string }): WorkflowInput {
	return {
		...failReplyWhenSubjectSaysFail(autoReplyWorkflow(credential)),
		name: 'Reply unless the subject says fail (e2e)',
	};
}

/**
 * The scripted model: asked a question, it calls the one tool on offer with `arguments`;
 * shown the tool's result, it says it is done.
 */
function callToolOnce(argumentsFor: (request: ChatRequest) => Record<string, unknown>) {
	return (request: ChatRequest): ScriptedAnswer => {
		if (request.messages.some((message) => message.role === 'tool')) return { text: AI_DONE_TEXT };
		const tools = request.tools ?? [];
		if (tools.length !== 1) {
			throw new Error(`expected the AgentMail tool alone, got ${tools.length} tool(s)`);
		}
		return { call: { name: tools[0].function.name, arguments: argumentsFor(request) } };
	};
}

describe(`${PACKAGE} inside n8n`, () => {
	// Its password is made up at run time; it lives only in this run's temporary user folder.
	const owner = makeOwner();
	let userFolder: string;
	let ports: { http: number; broker: number };
	let server: N8nServer | undefined;
	let client: N8nClient;
	let credential: { id: string; name: string };
	let workflowId: string | undefined;
	let openAi: FakeOpenAi;
	let openAiCredential: { id: string; name: string };
	/** What the fake model answers next; each test sets its own. */
	let model: (request: ChatRequest) => ScriptedAnswer = () => {
		throw new Error('no model script set for this test');
	};

	async function start(): Promise<void> {
		const started = Date.now();
		server = await startN8n({ userFolder, port: ports.http, brokerPort: ports.broker });
		say(`n8n ready on ${server.url} in ${Date.now() - started} ms (log: ${server.logFile})`);
	}

	async function executions(): Promise<Execution[]> {
		if (!workflowId) throw new Error('no workflow yet');
		return await client.executions(workflowId);
	}

	/** Waits until the workflow has at least `count` executions and every one of them has ended. */
	async function endedExecutions(what: string, count: number): Promise<Execution[]> {
		return await waitForOutcome(what, async () => {
			const runs = await executions();
			return runs.length >= count && runs.every((run) => run.stoppedAt !== null) ? runs : undefined;
		});
	}

	/** Makes `workflow` the inbox's one active workflow and waits for its trigger to start. */
	async function activateOnly(workflow: WorkflowInput): Promise<void> {
		workflowId = await activateAlone(client, workflowId, workflow, TRIGGER_NODE);
	}

	/**
	 * Activates the AI Agent workflow with the AgentMail tool set to `tool`, scripts the model to
	 * call it once with `argumentsFor`, and returns how many chat requests came before.
	 */
	async function startAgent(
		name: string,
		tool: Record<string, unknown>,
		argumentsFor: () => Record<string, unknown>,
	): Promise<number> {
		const credentials = { [CREDENTIAL_TYPE]: credential };
		await activateOnly(
			agentWorkflow({
				name,
				trigger: triggerNode(credentials),
				prompt: '={{ $json.replyText }}',
				systemMessage: 'You answer customer mail with the AgentMail tool.',
				credential,
				openAi: openAiCredential,
				tools: { AgentMail: { resource: 'message', emailFormat: 'text', ...tool } },
			}),
		);
		model = callToolOnce(argumentsFor);
		return openAi.requests.length;
	}

	beforeAll(async () => {
		await ensureBuilt();
		await installN8n({ log: say });
		userFolder = await mkdtemp(path.join(os.tmpdir(), 'agentmail-n8n-e2e-'));
		const [http, broker] = await freePorts(2);
		ports = { http, broker };
		await start();
		client = new N8nClient(server!.url);
		credential = await setUpN8n(client, owner, AGENT);
		openAi = await startFakeOpenAi((request) => model(request));
		openAiCredential = await fakeOpenAiCredential(client, openAi);
	}, SETUP_TIMEOUT_MS);

	afterAll(async () => {
		await server?.stop();
		await openAi?.close();
		// AGENTMAIL_E2E_KEEP=1 keeps n8n's folder (database, n8n.log) for a look afterwards.
		if (userFolder && !process.env.AGENTMAIL_E2E_KEEP) {
			await rm(userFolder, { recursive: true, force: true });
		}
	}, TEARDOWN_TIMEOUT_MS);

	it(
		'lists the package’s node types under its package name',
		async () => {
			const names = (await client.nodeTypes()).map((type) => type.name);
			expect(names).toEqual(
				expect.arrayContaining([`${PACKAGE}.agentMailTrigger`, `${PACKAGE}.agentMail`]),
			);
		},
		TEST_TIMEOUT_MS,
	);

	it(
		'tests the credential through n8n: OK for the sandbox key, the clear error for a wrong one',
		async () => {
			const good = await client.testCredential(credential.id);
			expect(good).toEqual(expect.objectContaining({ status: 'OK' }));

			const wrongKey = `am_${randomBytes(24).toString('hex')}`;
			const bad = await client.testCredential(
				credential.id,
				credentialData(AGENT, { apiKey: wrongKey }),
			);
			expect(bad.status).toBe('Error');
			expect(bad.message).toContain('check the API key');
			expect(bad.message).not.toContain(wrongKey);
		},
		TEST_TIMEOUT_MS,
	);

	it(
		'answers a delivered mail once, in its thread, with the auto-reply workflow active',
		async () => {
			workflowId = await client.createWorkflow(autoReplyWorkflow(credential));
			await client.activateWorkflow(workflowId);
			// n8n 2.40 starts the trigger after the activate call answered; "new mail only" takes
			// mail from the moment the trigger first opened the folder, which it records in the
			// workflow's static data (n8n saves it right after starting the triggers).
			await waitForOutcome('the trigger to start', async () => {
				const workflow = await client.getWorkflow(workflowId!);
				const staticData = workflow.staticData as Record<string, { uidValidity?: string }> | null;
				return staticData?.[`node:${TRIGGER_NODE}`]?.uidValidity ? true : undefined;
			});

			const { raw, messageId } = mailFromPeer('Question one');
			await deliver(AGENT, raw);

			const [execution] = await endedExecutions('one execution', 1);
			expect(execution.status).toBe('success');
			const replies = await waitForOutcome('the reply in peer’s INBOX', async () => {
				const found = await repliesToPeer();
				return found.length >= 1 ? found : undefined;
			});
			expect(replies).toEqual([
				expect.objectContaining({ inReplyTo: messageId, subject: 'Re: Question one' }),
			]);
			expect(replies[0].text).toContain(REPLY_TEXT);
			await waitUntilRead(messageId, 'the original to be marked read');

			await sleep(QUIET_PERIOD_MS);
			expect(await executions()).toHaveLength(1);
			expect(await repliesToPeer()).toHaveLength(1);
		},
		TEST_TIMEOUT_MS,
	);

	it(
		'answers the mail that arrived while n8n was stopped, once each, after the restart',
		async () => {
			expect(workflowId).toBeDefined();
			const before = (await executions()).length;
			const repliesBefore = (await repliesToPeer()).length;

			await server!.stop();
			server = undefined;
			const sent = [];
			for (const subject of ['While down 1', 'While down 2', 'While down 3']) {
				const mail = mailFromPeer(subject);
				await deliver(AGENT, mail.raw);
				sent.push(mail.messageId);
			}
			await start();

			const runs = await endedExecutions('three more executions', before + 3);
			expect(runs.map((run) => run.status)).toEqual(Array(before + 3).fill('success'));
			const replies = await waitForOutcome('three more replies', async () => {
				const found = await repliesToPeer();
				return found.length >= repliesBefore + 3 ? found : undefined;
			});
			const answered = replies.slice(repliesBefore).map((reply) => reply.inReplyTo);
			expect([...answered].sort()).toEqual([...sent].sort());

			await sleep(QUIET_PERIOD_MS);
			expect(await executions()).toHaveLength(before + 3);
			expect(await repliesToPeer()).toHaveLength(repliesBefore + 3);
		},
		TEST_TIMEOUT_MS,
	);

	it(
		'leaves the message of a failed run unread; the next successful run marks its message read',
		async () => {
			// One trigger on the inbox at a time: the auto-reply workflow steps aside.
			await activateOnly(failingReplyWorkflow(credential));
			const failing = mailFromPeer('Please fail this one');
			await deliver(AGENT, failing.raw);
			const [failed] = await endedExecutions('the failed execution', 1);
			expect(failed.status).toBe('error');
			expect(JSON.stringify(failed.data?.resultData.error ?? {})).toContain('Not A Header');
			await sleep(QUIET_PERIOD_MS);
			const afterFailure = await listMessages(AGENT, 'INBOX');
			const stillUnread = afterFailure.find((message) => message.messageId === failing.messageId);
			expect(stillUnread?.flags).not.toContain('\\Seen');

			const good = mailFromPeer('A good one');
			await deliver(AGENT, good.raw);
			const runs = await endedExecutions('the successful execution', 2);
			expect(runs.map((run) => run.status).sort()).toEqual(['error', 'success']);
			await waitUntilRead(good.messageId, 'the good mail to be marked read');
			const replies = await repliesToPeer();
			expect(replies.filter((reply) => reply.inReplyTo === good.messageId)).toHaveLength(1);
			expect(replies.filter((reply) => reply.inReplyTo === failing.messageId)).toHaveLength(0);

			await sleep(QUIET_PERIOD_MS);
			expect(await executions()).toHaveLength(2);
			const inbox = await listMessages(AGENT, 'INBOX');
			const failedMail = inbox.find((message) => message.messageId === failing.messageId);
			expect(failedMail?.flags).not.toContain('\\Seen');
		},
		TEST_TIMEOUT_MS,
	);

	it(
		'lets an AI Agent answer a mail in its thread with the AgentMail tool',
		async () => {
			const requestsBefore = await startAgent(
				'AI auto-reply (e2e)',
				{
					operation: 'reply',
					source: 'inputItem',
					text: "={{ $fromAI('text', 'The answer to the customer', 'string') }}",
				},
				() => ({ text: AI_REPLY_TEXT }),
			);

			const { raw, messageId } = mailFromPeer('Opening hours?');
			await deliver(AGENT, raw);
			const [execution] = await endedExecutions('the agent’s execution', 1);
			expect(execution.status).toBe('success');
			const reply = await waitForOutcome('the AI’s reply in peer’s INBOX', async () => {
				const found = (await repliesToPeer()).filter((one) => one.inReplyTo === messageId);
				return found.length >= 1 ? found : undefined;
			});
			expect(reply).toEqual([expect.objectContaining({ subject: 'Re: Opening hours?' })]);
			expect(reply[0].text).toContain(AI_REPLY_TEXT);

			// What n8n told the model: the mail's text, the tool with its one parameter, and
			// after the call the node's result (sent, to whom).
			const [asked, answered] = openAi.requests.slice(requestsBefore);
			expect(asked.messages.map(messageText).join('\n')).toContain('this is "Opening hours?"');
			expect(Object.keys(asked.tools?.[0].function.parameters?.properties ?? {})).toEqual(['text']);
			const toolResult = answered.messages.find((message) => message.role === 'tool');
			expect(toolResult && messageText(toolResult)).toMatch(/"sent":\s*true/);
			expect(toolResult && messageText(toolResult)).toContain(PEER);
			await waitUntilRead(messageId, 'the original to be marked read');

			await sleep(QUIET_PERIOD_MS);
			expect(await executions()).toHaveLength(1);
			expect(openAi.requests.length - requestsBefore).toBe(2);
		},
		TEST_TIMEOUT_MS,
	);

	it(
		'lets an AI Agent search the inbox with the AgentMail tool (Get Many, a filter from $fromAI)',
		async () => {
			const requestsBefore = await startAgent(
				'AI inbox search (e2e)',
				{
					operation: 'getMany',
					folder: 'INBOX',
					format: 'headers',
					limit: 5,
					filters: {
						subject: "={{ $fromAI('subject', 'Words the subject contains', 'string') }}",
					},
				},
				() => ({ subject: 'Order 4711' }),
			);
			const { raw, messageId } = mailFromPeer('Order 4711 shipped');
			await deliver(AGENT, raw);
			const [execution] = await endedExecutions('the agent’s execution', 1);
			expect(execution.status).toBe('success');
			const requests = openAi.requests.slice(requestsBefore);
			// What n8n offers the model: the operation's action text, and the one $fromAI field.
			const offered = requests[0].tools?.[0].function;
			expect(offered?.description).toBe('Search messages in AgentMail');
			expect(Object.keys(offered?.parameters?.properties ?? {})).toEqual(['subject']);
			const toolResults = requests
				.flatMap((request) => request.messages.filter((message) => message.role === 'tool'))
				.map((message) => JSON.parse(messageText(message)) as Array<Record<string, unknown>>);
			// The model's search (subject "Order 4711") found the mail, with where it is.
			expect(toolResults).toHaveLength(1);
			expect(toolResults[0].map((m) => m.messageId)).toContain(messageId);
			expect(toolResults[0].every((m) => String(m.subject).includes('Order 4711'))).toBe(true);
			expect(toolResults[0][0]).toEqual(
				expect.objectContaining({ uid: expect.any(Number), uidValidity: expect.any(String) }),
			);
		},
		TEST_TIMEOUT_MS,
	);

	it(
		'checks AgentMail’s limits on what the model asks the tool to send: nothing leaves, the error is clear',
		async () => {
			const tooMany = Array.from({ length: 51 }, (_, n) => `reader${n}@example.com`).join(', ');
			const requestsBefore = await startAgent(
				'AI sender over the limit (e2e)',
				{
					operation: 'send',
					to: "={{ $fromAI('to', 'Recipients, separated by commas', 'string') }}",
					subject: 'Newsletter',
					text: "={{ $fromAI('text', 'The newsletter text', 'string') }}",
				},
				() => ({ to: tooMany, text: 'Our news.' }),
			);
			const repliesBefore = (await repliesToPeer()).length;

			const { raw, messageId } = mailFromPeer('Send the newsletter to everyone');
			await deliver(AGENT, raw);
			const runs = await endedExecutions('the agent’s execution', 1);
			// n8n hands a tool's error back to the model as the tool's result (the run itself
			// succeeds), so the model reads the same clear text a user would.
			expect(runs.map((run) => run.status)).toEqual(['success']);
			const toolResults = openAi.requests
				.slice(requestsBefore)
				.flatMap((request) => request.messages.filter((message) => message.role === 'tool'))
				.map(messageText);
			expect(toolResults).toHaveLength(1);
			expect(JSON.parse(toolResults[0])).toEqual([
				{
					error: expect.stringMatching(
						/has 51 recipients.*AgentMail accepts at most 50 per message/,
					),
				},
			]);
			await sleep(QUIET_PERIOD_MS);
			expect(await repliesToPeer()).toHaveLength(repliesBefore);
			const agentSent = await listMessages(AGENT, 'Sent');
			expect(agentSent.filter((message) => message.subject === 'Newsletter')).toHaveLength(0);
			const inbox = await listMessages(AGENT, 'INBOX');
			const original = inbox.find((message) => message.messageId === messageId);
			expect(original).toBeDefined();
		},
		TEST_TIMEOUT_MS,
	);
});
