/**
 * End to end, Send and Wait's Reply by Email in a real n8n: the person answers by replying to
 * the question, the AgentMail Trigger on the inbox hands the reply to the waiting execution,
 * which resumes with the decision and the reply's text, and the trigger starts no run with it;
 * also when n8n is stopped while the reply arrives. Without an active trigger the question is
 * refused before it is sent. (Its own n8n: the restart test stops and starts it.)
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { installN8n } from '../../tools/n8n/install';
import { N8nClient, startN8n, type Execution, type N8nServer } from '../../tools/n8n/server';
import { listMessages, useOwnSandbox } from '../helpers/sandbox';
import { freePorts } from '../../tools/sandbox/ports';
import {
	askOutput,
	askWorkflow,
	replyToQuestion,
	replyWatcherWorkflow,
	WATCHER_NODE,
	watcherRunsWith,
} from './sendAndWait';
import {
	activateAlone,
	AGENT,
	ensureBuilt,
	makeOwner,
	PEER,
	say,
	SETUP_TIMEOUT_MS,
	setUpN8n,
	startByWebhook,
	stopN8n,
	TEARDOWN_TIMEOUT_MS,
	waitForOutcome,
} from './support';

/** A question, a reply and the resumed run take seconds; a restart of n8n 5-15 s more. */
const TEST_TIMEOUT_MS = 4 * 60_000;
/** After the expected runs, how long no other run may start. */
const QUIET_PERIOD_MS = 5_000;

type Json = Record<string, unknown>;

// A sandbox of its own: other test files' mail to the agent would start runs of its trigger.
useOwnSandbox();

describe('Reply by Email in n8n', () => {
	let userFolder: string | undefined;
	let ports: number[];
	let server: N8nServer | undefined;
	let client: N8nClient;
	let credential: { id: string; name: string };
	/** The active workflow whose AgentMail Trigger watches the agent's INBOX. */
	let watcherId: string | undefined;

	async function start(): Promise<void> {
		// The same port after a restart: the client (and its API key) stays.
		server = await startN8n({ userFolder: userFolder!, port: ports[0], brokerPort: ports[1] });
	}

	beforeAll(async () => {
		await ensureBuilt();
		await installN8n({ log: say });
		userFolder = await mkdtemp(path.join(os.tmpdir(), 'agentmail-n8n-reply-'));
		ports = await freePorts(2);
		await start();
		client = new N8nClient(server!.url);
		credential = await setUpN8n(client, makeOwner(), AGENT);
	}, SETUP_TIMEOUT_MS);

	afterAll(async () => await stopN8n(server, userFolder), TEARDOWN_TIMEOUT_MS);

	/** Activates a Send and Wait workflow with Reply by Email and starts one execution. */
	async function ask(parameters: Json): Promise<{ subject: string; workflowId: string }> {
		const tag = randomBytes(4).toString('hex');
		const subject = `Question ${tag}`;
		const workflowId = await client.createWorkflow(
			askWorkflow(`Ask ${tag}`, `ask-${tag}`, credential, {
				subject,
				replyByEmail: true,
				...parameters,
			}),
		);
		await client.activateWorkflow(workflowId);
		await startByWebhook(client.baseUrl, `ask-${tag}`, { orderId: tag });
		return { subject, workflowId };
	}

	async function onlyExecution(workflowId: string, status: string): Promise<Execution> {
		return await waitForOutcome(`the execution to be ${status}`, async () => {
			const runs = await client.executions(workflowId);
			return runs.length === 1 && runs[0].status === status ? runs[0] : undefined;
		});
	}

	/** A trigger on the inbox made the one active, then a question asked and waiting. */
	async function askWatched(name: string, parameters: Json) {
		const workflow = replyWatcherWorkflow(name, credential);
		watcherId = await activateAlone(client, watcherId, workflow, WATCHER_NODE);
		const asked = await ask(parameters);
		await onlyExecution(asked.workflowId, 'waiting');
		return asked;
	}

	async function watcherRuns(messageId: string): Promise<Execution[]> {
		return watcherId ? await watcherRunsWith(client, watcherId, messageId) : [];
	}

	it(
		'without an active AgentMail Trigger on the inbox, the question is refused before it is sent',
		async () => {
			const { subject, workflowId } = await ask({
				message: 'Refund order 7?',
				responseType: 'approval',
			});
			const failed = await onlyExecution(workflowId, 'error');
			expect(JSON.stringify(failed.data?.resultData.error)).toContain(
				'Reply by Email needs an active AgentMail Trigger on agent@agentmail.test watching INBOX',
			);
			expect((await listMessages(PEER, 'INBOX')).map((m) => m.subject)).not.toContain(subject);
			await client.deactivateWorkflow(workflowId);
		},
		TEST_TIMEOUT_MS,
	);

	it(
		'the peer replies "Yes, go ahead": the execution resumes approved with the reply’s text, and no other run starts; a second reply is the trigger’s',
		async () => {
			const { subject, workflowId } = await askWatched('Replies', {
				message: 'Refund order 1042 (EUR 120)?',
				responseType: 'approval',
			});
			const replyId = await replyToQuestion(subject, 'Yes, go ahead');
			const done = await onlyExecution(workflowId, 'success');
			const [item] = askOutput(done);
			expect(item.data).toEqual({
				approved: true,
				text: 'Yes, go ahead',
				respondedAt: expect.any(String),
			});
			expect(item).toMatchObject({ messageId: replyId, replyText: 'Yes, go ahead' });
			expect((item.from as Json).address).toBe(PEER);
			await sleep(QUIET_PERIOD_MS);
			expect(await watcherRuns(replyId)).toHaveLength(0);

			// The execution no longer waits: a later reply in the thread starts the trigger's run.
			const laterId = await replyToQuestion(subject, 'No, wait!');
			await waitForOutcome('the trigger’s run with the later reply', async () => {
				const runs = await watcherRuns(laterId);
				return runs.length === 1 && runs[0].stoppedAt ? runs : undefined;
			});
			expect(askOutput(await onlyExecution(workflowId, 'success'))[0].data).toEqual(item.data);
			await client.deactivateWorkflow(workflowId);
		},
		TEST_TIMEOUT_MS,
	);

	it(
		'a reply that arrives while n8n is stopped resumes the execution after the restart, and starts no other run',
		async () => {
			const { subject, workflowId } = await askWatched('Replies again', {
				message: 'What should the reply to ACME say?',
				responseType: 'freeText',
			});
			await server!.stop();
			server = undefined;
			const replyId = await replyToQuestion(subject, 'Tell them Monday.');
			await start();
			const done = await onlyExecution(workflowId, 'success');
			expect(askOutput(done)[0].data).toEqual({
				text: 'Tell them Monday.',
				respondedAt: expect.any(String),
			});
			await sleep(QUIET_PERIOD_MS);
			expect(await watcherRuns(replyId)).toHaveLength(0);
			await client.deactivateWorkflow(workflowId);
		},
		TEST_TIMEOUT_MS,
	);
});
