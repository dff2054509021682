/**
 * End to end: the built package inside a real n8n (the pinned version, installed into the
 * project's cache folder on first use), against a sandbox of its own. n8n loads the package
 * from its community-nodes folder as users get it; everything is driven over n8n's REST and
 * public APIs.
 *
 * The package must be built: when dist/ is missing or older than the sources, `npm run build`
 * runs first. When n8n is not installed yet, it is installed (several minutes, then cached).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { simpleParser } from 'mailparser';

import { waitForTriggerStart } from '../../scripts/n8n/demo';
import { installN8n } from '../../scripts/n8n/install';
import {
	N8nClient,
	startN8n,
	type Execution,
	type N8nServer,
	type WorkflowInput,
} from '../../scripts/n8n/server';
import { credentialData, deliver, listMessages, useOwnSandbox } from '../helpers/sandbox';
import { freePorts } from '../sandbox/sandbox';
import {
	AGENT,
	ensureBuilt,
	makeOwner,
	OUTCOME_TIMEOUT_MS,
	PEER,
	peerMailHeaders,
	say,
	SETUP_TIMEOUT_MS,
	setUpN8n,
	sleep,
	waitFor,
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

useOwnSandbox();

/** A plain mail from peer to the agent with a Message-ID of its own. */
function mailFromPeer(subject: string): { raw: string; messageId: string } {
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

interface Reply {
	inReplyTo?: string;
	subject?: string;
	text?: string;
}

/** The replies in peer's INBOX (everything there comes from the agent). */
async function repliesToPeer(): Promise<Reply[]> {
	const messages = await listMessages(PEER, 'INBOX');
	return await Promise.all(
		messages.map(async (message) => {
			const parsed = await simpleParser(message.source);
			return { inReplyTo: parsed.inReplyTo, subject: parsed.subject, text: parsed.text };
		}),
	);
}

/** The workflow the README calls the auto-reply agent. */
function autoReplyWorkflow(credential: { id: string; name: string }): WorkflowInput {
	const credentials = { [CREDENTIAL_TYPE]: credential };
	return {
		name: 'Auto-reply agent (e2e)',
		nodes: [
			{
				id: 'a1b2c3d4-0000-4000-8000-000000000001',
				name: TRIGGER_NODE,
				type: `${PACKAGE}.agentMailTrigger`,
				typeVersion: 1,
				position: [0, 0],
				parameters: { folder: 'INBOX', afterRun: 'markRead' },
				credentials,
			},
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

/**
 * Trigger → Reply whose reply step fails, deterministically, for a mail whose subject contains
 * "fail": its custom header's name is then not a valid header name, which the node refuses.
 */
function failingReplyWorkflow(credential: { id: string; name: string }): WorkflowInput {
	const workflow = autoReplyWorkflow(credential);
	const [trigger, reply] = workflow.nodes as Array<Record<string, unknown>>;
	reply.parameters = {
		...(reply.parameters as Record<string, unknown>),
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
	return { ...workflow, name: 'Reply unless the subject says fail (e2e)', nodes: [trigger, reply] };
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

	async function start(): Promise<void> {
		const started = Date.now();
		server = await startN8n({ userFolder, port: ports.http, brokerPort: ports.broker });
		say(`n8n ready on ${server.url} in ${Date.now() - started} ms (log: ${server.logFile})`);
	}

	async function executions(): Promise<Execution[]> {
		if (!workflowId) throw new Error('no workflow yet');
		return await client.executions(workflowId);
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
	}, SETUP_TIMEOUT_MS);

	afterAll(async () => {
		await server?.stop();
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
			await waitFor('the trigger to start', async () => {
				const workflow = await client.getWorkflow(workflowId!);
				const staticData = workflow.staticData as Record<string, { uidValidity?: string }> | null;
				return staticData?.[`node:${TRIGGER_NODE}`]?.uidValidity ? true : undefined;
			});

			const { raw, messageId } = mailFromPeer('Question one');
			await deliver(AGENT, raw);

			const [execution] = await waitFor('one execution', async () => {
				const runs = await executions();
				return runs.length >= 1 && runs.every((run) => run.finished) ? runs : undefined;
			});
			expect(execution.status).toBe('success');
			const replies = await waitFor('the reply in peer’s INBOX', async () => {
				const found = await repliesToPeer();
				return found.length >= 1 ? found : undefined;
			});
			expect(replies).toEqual([
				expect.objectContaining({ inReplyTo: messageId, subject: 'Re: Question one' }),
			]);
			expect(replies[0].text).toContain(REPLY_TEXT);
			await waitFor('the original to be marked read', async () => {
				const inbox = await listMessages(AGENT, 'INBOX');
				const original = inbox.find((message) => message.messageId === messageId);
				return original?.flags.includes('\\Seen') ? true : undefined;
			});

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

			const runs = await waitFor('three more executions', async () => {
				const found = await executions();
				return found.length >= before + 3 && found.every((run) => run.finished) ? found : undefined;
			});
			expect(runs.map((run) => run.status)).toEqual(Array(before + 3).fill('success'));
			const replies = await waitFor('three more replies', async () => {
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
			if (workflowId) await client.deactivateWorkflow(workflowId);
			workflowId = await client.createWorkflow(failingReplyWorkflow(credential));
			await client.activateWorkflow(workflowId);
			await waitForTriggerStart(client, workflowId, TRIGGER_NODE, OUTCOME_TIMEOUT_MS);
			const ended = (runs: Execution[]) => runs.every((run) => run.stoppedAt !== null);

			const failing = mailFromPeer('Please fail this one');
			await deliver(AGENT, failing.raw);
			const [failed] = await waitFor('the failed execution', async () => {
				const runs = await executions();
				return runs.length >= 1 && ended(runs) ? runs : undefined;
			});
			expect(failed.status).toBe('error');
			expect(JSON.stringify(failed.data?.resultData.error ?? {})).toContain('Not A Header');
			await sleep(QUIET_PERIOD_MS);
			const afterFailure = await listMessages(AGENT, 'INBOX');
			const stillUnread = afterFailure.find((message) => message.messageId === failing.messageId);
			expect(stillUnread?.flags).not.toContain('\\Seen');

			const good = mailFromPeer('A good one');
			await deliver(AGENT, good.raw);
			const runs = await waitFor('the successful execution', async () => {
				const found = await executions();
				return found.length >= 2 && ended(found) ? found : undefined;
			});
			expect(runs.map((run) => run.status).sort()).toEqual(['error', 'success']);
			await waitFor('the good mail to be marked read', async () => {
				const inbox = await listMessages(AGENT, 'INBOX');
				const original = inbox.find((message) => message.messageId === good.messageId);
				return original?.flags.includes('\\Seen') ? true : undefined;
			});
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
});
