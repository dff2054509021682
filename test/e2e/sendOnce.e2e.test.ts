/**
 * End to end, Send Once in a real n8n: a workflow sends five messages, the SMTP connection
 * breaks in the middle of the third, and n8n runs the node again, once through the node's
 * Retry On Fail and once through a retry of the failed execution (n8n's REST API, as the
 * executions list does). Either way the recipient gets every message exactly once.
 */
import { randomBytes, randomUUID } from 'node:crypto';
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
import { listMessages, useOwnSandbox } from '../helpers/sandbox';
import { freePorts } from '../../tools/sandbox/sandbox';
import {
	AGENT,
	ensureBuilt,
	makeOwner,
	PEER,
	say,
	SETUP_TIMEOUT_MS,
	setUpN8n,
	startByWebhook,
	waitForOutcome,
	webhookNode,
} from './support';

/** One test: a run of five messages and its retry take seconds. */
const TEST_TIMEOUT_MS = 3 * 60_000;
/** Stopping n8n and the sandbox at the end. */
const TEARDOWN_TIMEOUT_MS = 2 * 60_000;
/** Retry On Fail's pause between the tries (n8n's minimum is 0; its default 1 s). */
const WAIT_BETWEEN_TRIES_MS = 1_000;
/** The body that breaks the connection: the third message of the run. */
const BROKEN_MESSAGE = 3;

const PACKAGE = 'n8n-nodes-agentmail-inbox';
const SEND_NODE = 'Send';

const sandbox = useOwnSandbox();

/** Webhook → Split Out → AgentMail Send with a Send Once key per item. */
function sendWorkflow(
	name: string,
	webhookPath: string,
	credential: { id: string; name: string },
	retryOnFail: boolean,
): WorkflowInput {
	return {
		name,
		nodes: [
			webhookNode(webhookPath),
			{
				id: randomUUID(),
				name: 'Split Out',
				type: 'n8n-nodes-base.splitOut',
				typeVersion: 1,
				position: [300, 0],
				parameters: { fieldToSplitOut: 'body.items', include: 'noOtherFields', options: {} },
			},
			{
				id: randomUUID(),
				name: SEND_NODE,
				type: `${PACKAGE}.agentMail`,
				typeVersion: 1,
				position: [600, 0],
				parameters: {
					resource: 'message',
					operation: 'send',
					to: PEER,
					subject: '={{ $json.subject }}',
					emailFormat: 'text',
					text: '={{ "Message " + $json.subject }}',
					options: { sendOnceKey: '={{ $json.key }}' },
				},
				credentials: { agentMailInboxApi: credential },
				...(retryOnFail
					? { retryOnFail: true, maxTries: 2, waitBetweenTries: WAIT_BETWEEN_TRIES_MS }
					: {}),
			},
		],
		connections: {
			Webhook: { main: [[{ node: 'Split Out', type: 'main', index: 0 }]] },
			'Split Out': { main: [[{ node: SEND_NODE, type: 'main', index: 0 }]] },
		},
	};
}

/** How many copies of each subject starting with `tag` peer's INBOX holds. */
async function copiesAtRecipient(tag: string): Promise<Record<string, number>> {
	const counts: Record<string, number> = {};
	for (const message of await listMessages(PEER, 'INBOX')) {
		const subject = message.subject ?? '';
		if (subject.startsWith(tag)) counts[subject] = (counts[subject] ?? 0) + 1;
	}
	return counts;
}

/** The Send node's output items of an execution (its last run). */
function sendOutput(execution: Execution): Array<Record<string, unknown>> {
	const runs = execution.data?.resultData.runData[SEND_NODE] ?? [];
	const items = runs[runs.length - 1]?.data?.main[0] ?? [];
	return items.map((item) => item.json as Record<string, unknown>);
}

describe('Send Once in n8n', () => {
	let userFolder: string;
	let server: N8nServer | undefined;
	let client: N8nClient;
	let credential: { id: string; name: string };

	beforeAll(async () => {
		await ensureBuilt();
		await installN8n({ log: say });
		userFolder = await mkdtemp(path.join(os.tmpdir(), 'agentmail-n8n-send-once-'));
		const [port, brokerPort] = await freePorts(2);
		server = await startN8n({ userFolder, port, brokerPort });
		client = new N8nClient(server.url);
		credential = await setUpN8n(client, makeOwner(), AGENT);
	}, SETUP_TIMEOUT_MS);

	afterAll(async () => {
		delete sandbox().smtpFaults.dropDuringData;
		await server?.stop();
		if (userFolder && !process.env.AGENTMAIL_E2E_KEEP) {
			await rm(userFolder, { recursive: true, force: true });
		}
	}, TEARDOWN_TIMEOUT_MS);

	/** Activates the workflow, breaks the 3rd body, posts five items; returns tag and workflow. */
	async function runBroken(retryOnFail: boolean): Promise<{ tag: string; workflowId: string }> {
		const tag = `once-${randomBytes(4).toString('hex')}`;
		const webhookPath = `send-once-${tag}`;
		const workflowId = await client.createWorkflow(
			sendWorkflow(`Send once ${tag}`, webhookPath, credential, retryOnFail),
		);
		await client.activateWorkflow(workflowId);
		sandbox().smtpFaults.dropDuringData = BROKEN_MESSAGE;
		const items = Array.from({ length: 5 }, (_, i) => ({
			key: `${tag}-${i + 1}`,
			subject: `${tag} #${i + 1}`,
		}));
		// n8n registers an activated workflow's webhook a moment after the activate call.
		await startByWebhook(server!.url, webhookPath, { items });
		return { tag, workflowId };
	}

	async function endedRuns(workflowId: string, count: number): Promise<Execution[]> {
		return await waitForOutcome(`${count} ended runs`, async () => {
			const runs = await client.executions(workflowId);
			return runs.length >= count && runs.every((run) => run.stoppedAt !== null) ? runs : undefined;
		});
	}

	const everyOnce = (tag: string) =>
		Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`${tag} #${i + 1}`, 1]));

	it(
		'Retry On Fail: the node fails at the 3rd message, its retry sends only the 3rd to 5th',
		async () => {
			const { tag, workflowId } = await runBroken(true);
			const [run] = await endedRuns(workflowId, 1);
			expect(run.status).toBe('success');
			const output = sendOutput(run);
			expect(output.map((item) => item.alreadySent === true)).toEqual([
				true,
				true,
				false,
				false,
				false,
			]);
			expect(output.map((item) => item.sent)).toEqual([false, false, true, true, true]);
			expect(await copiesAtRecipient(tag)).toEqual(everyOnce(tag));
			await client.deactivateWorkflow(workflowId);
		},
		TEST_TIMEOUT_MS,
	);

	it(
		'the failed execution retried through n8n’s API: only what never left goes out',
		async () => {
			const { tag, workflowId } = await runBroken(false);
			const [failed] = await endedRuns(workflowId, 1);
			expect(failed.status).toBe('error');
			expect(await copiesAtRecipient(tag)).toEqual({ [`${tag} #1`]: 1, [`${tag} #2`]: 1 });
			await client.retryExecution(failed.id);
			const runs = await endedRuns(workflowId, 2);
			const retry = runs.find((run) => run.id !== failed.id)!;
			expect(retry.mode).toBe('retry');
			expect(retry.status).toBe('success');
			expect(sendOutput(retry).map((item) => item.sent)).toEqual([false, false, true, true, true]);
			expect(await copiesAtRecipient(tag)).toEqual(everyOnce(tag));
			await client.deactivateWorkflow(workflowId);
		},
		TEST_TIMEOUT_MS,
	);
});
