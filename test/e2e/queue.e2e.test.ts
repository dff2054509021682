/**
 * End to end in n8n's queue mode: a main process that holds the AgentMail Trigger, two workers
 * that run the executions, Redis between them and PostgreSQL as their shared database, binary
 * data in a folder all three share (filesystem mode). The auto-reply workflow of `npm run dev`
 * answers 300 mails, each with an attachment it sends back. Send and Wait asks from a worker
 * and resumes on one, answered by a link and by a reply that the trigger on the main hands over.
 *
 * Why PostgreSQL: n8n 2.40.7 only warns about queue mode on SQLite ("not officially
 * supported"), but it opens SQLite without a busy timeout and serialises writes with a lock
 * inside each process, so three processes writing executions to one file get SQLITE_BUSY.
 *
 * Why one user folder per process: n8n keeps `crash.journal` in its user folder and takes one
 * that is there at start for a crash of its own (it logs "Last session crashed" and waits 10 s),
 * so processes sharing a folder take each other's journal for crashes. They share what a real
 * deployment shares instead: N8N_ENCRYPTION_KEY, the database, Redis and the binary-data folder.
 *
 * Which process ran an execution is not stored with it. The proof is in the logs (JSON lines):
 * each worker logs "Worker finished execution <id>" for the jobs it ran (every execution must be
 * in exactly one worker's log, both workers must have some, the main's log none), and the main
 * logs "Execution <id> (job <n>) finished" with the `workerId` of the job-finished message that
 * came back through Redis (`worker-...`; both workers have the same one on one host in a
 * container, where n8n takes the hostname for it).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { simpleParser } from 'mailparser';

import { settle } from '../../nodes/shared/async';
import { DEMO_WORKFLOWS, loadDemoWorkflow, waitForTriggerStart } from '../../tools/n8n/demo';
import { installN8n } from '../../tools/n8n/install';
import { n8nPostgresEnv, startPostgres, type PostgresServer } from '../../tools/n8n/postgres';
import { n8nRedisEnv, startRedis, type RedisServer } from '../../tools/n8n/redis';
import {
	N8nClient,
	startN8n,
	type Execution,
	type N8nServer,
	type StartN8nOptions,
} from '../../tools/n8n/server';
import { deliver, imapClient, listMessages, useOwnSandbox } from '../helpers/sandbox';
import {
	answer,
	askOutput,
	askWorkflow,
	questionLinks,
	replyToQuestion,
	replyWatcherWorkflow,
	watcherRunsWith,
} from './sendAndWait';
import { freePorts } from '../../tools/sandbox/sandbox';
import {
	AGENT,
	ensureBuilt,
	makeOwner,
	PEER,
	peerMailHeaders,
	say,
	SETUP_TIMEOUT_MS,
	setUpN8n,
	startByWebhook,
	waitForOutcome,
} from './support';

/** The test: 300 deliveries, runs and replies took about 1-2 minutes here. */
const TEST_TIMEOUT_MS = 12 * 60_000;
/** From the first delivery until the last reply and the last mark, on a busy 2-core machine. */
const PROCESSING_TIMEOUT_MS = 8 * 60_000;
/** After everything was answered, how long nothing more may happen. */
const QUIET_PERIOD_MS = 10_000;
/** Stopping three n8n processes, Redis, PostgreSQL and the sandbox. */
const TEARDOWN_TIMEOUT_MS = 3 * 60_000;
/** Pause between two looks at the mailboxes: each look is a new IMAP login. */
const MAILBOX_POLL_INTERVAL_MS = 1_000;

const MAILS = 300;
const WORKERS = 2;
/** n8n warns below 5 ("can lead to an unstable environment"). */
const WORKER_CONCURRENCY = 5;
/** LMTP deliveries in flight at once. */
const DELIVERY_PARALLELISM = 5;
/** Size of each mail's attachment (random bytes)... */
const ATTACHMENT_BYTES = 3_000;
/**
 * ...except every LARGE_EVERY-th mail's, which is this large: decoded in dozens of pieces,
 * it reaches n8n's binary data as a stream, not as one Buffer.
 */
const LARGE_ATTACHMENT_BYTES = 1_000_000;
const LARGE_EVERY = 50;

const TRIGGER_NODE = 'AgentMail Trigger';
/** The trigger's first attachment of a message (binary prefix `attachment_`). */
const ATTACHMENT_PROPERTY = 'attachment_0';

useOwnSandbox();

interface SentMail {
	messageId: string;
	fileName: string;
	sha256: string;
	raw: string;
}

function sha256(data: Buffer): string {
	return createHash('sha256').update(data).digest('hex');
}

/** Mail number `n` from peer to the agent, with a random attachment whose hash is known. */
function mailWithAttachment(n: number, subject = `Queue mail ${n}`): SentMail {
	const messageId = `<queue.${n}.${randomBytes(6).toString('hex')}@agentmail.test>`;
	const content = randomBytes(n % LARGE_EVERY === 0 ? LARGE_ATTACHMENT_BYTES : ATTACHMENT_BYTES);
	const fileName = `payload-${n}.bin`;
	const boundary = `b-${randomBytes(8).toString('hex')}`;
	const base64 = content.toString('base64').replace(/.{76}/g, '$&\r\n');
	const raw = [
		...peerMailHeaders(subject, messageId),
		`Content-Type: multipart/mixed; boundary="${boundary}"`,
		'',
		`--${boundary}`,
		'Content-Type: text/plain; charset=utf-8',
		'',
		`Hello agent, this is mail ${n}; its attachment comes back with the answer.`,
		`--${boundary}`,
		`Content-Type: application/octet-stream; name="${fileName}"`,
		`Content-Disposition: attachment; filename="${fileName}"`,
		'Content-Transfer-Encoding: base64',
		'',
		base64.trimEnd(),
		`--${boundary}--`,
		'',
	].join('\r\n');
	return { messageId, fileName, sha256: sha256(content), raw };
}

/** Message and unseen counts of a folder, from one IMAP STATUS. */
async function folderCounts(address: string): Promise<{ messages: number; unseen: number }> {
	const client = await imapClient(address);
	try {
		const status = await client.status('INBOX', { messages: true, unseen: true });
		if (!status) throw new Error(`STATUS INBOX of ${address} failed`);
		return { messages: status.messages ?? 0, unseen: status.unseen ?? 0 };
	} finally {
		await client.logout();
	}
}

/** Polls `check` every {@link MAILBOX_POLL_INTERVAL_MS} until it is true. */
async function waitUntil(what: string, check: () => Promise<boolean>): Promise<void> {
	const deadline = Date.now() + PROCESSING_TIMEOUT_MS;
	while (!(await check())) {
		if (Date.now() > deadline) {
			throw new Error(`timed out after ${PROCESSING_TIMEOUT_MS} ms waiting for ${what}`);
		}
		await sleep(MAILBOX_POLL_INTERVAL_MS);
	}
}

interface LogEntry {
	message: string;
	metadata: Record<string, unknown>;
}

/** The JSON lines of an n8n log (N8N_LOG_FORMAT=json); other lines are left out. */
function logEntries(file: string): LogEntry[] {
	if (!existsSync(file)) return [];
	const entries: LogEntry[] = [];
	for (const line of readFileSync(file, 'utf8').split('\n')) {
		if (!line.startsWith('{')) continue;
		const parsed = JSON.parse(line) as { message?: unknown; metadata?: Record<string, unknown> };
		if (typeof parsed.message !== 'string') continue;
		entries.push({ message: parsed.message, metadata: parsed.metadata ?? {} });
	}
	return entries;
}

/** The execution ids in the log messages that match `pattern` (its group 1). */
function executionIdsLogged(entries: LogEntry[], pattern: RegExp): string[] {
	return entries.flatMap((entry) => {
		const match = pattern.exec(entry.message);
		return match ? [match[1]] : [];
	});
}

/** Every file below a folder. */
async function filesBelow(folder: string): Promise<string[]> {
	if (!existsSync(folder)) return [];
	const entries = await readdir(folder, { recursive: true, withFileTypes: true });
	return entries.filter((entry) => entry.isFile()).map((entry) => entry.name);
}

describe('n8n-nodes-agentmail-inbox in n8n queue mode (main + 2 workers)', () => {
	// Its password is made up at run time; it lives only in this run's temporary database.
	const owner = makeOwner();
	let root: string;
	let binaryDataDir: string;
	let redis: RedisServer | undefined;
	let postgres: PostgresServer | undefined;
	let main: N8nServer | undefined;
	const workers: N8nServer[] = [];
	let client: N8nClient;
	let credential: { id: string; name: string };

	beforeAll(async () => {
		await ensureBuilt();
		const installation = await installN8n({ log: say });
		root = await mkdtemp(path.join(os.tmpdir(), 'agentmail-queue-e2e-'));
		binaryDataDir = path.join(root, 'binary-data');
		await mkdir(binaryDataDir);
		let started = Date.now();
		// Both kept even when the other fails, so afterAll stops the one that did start (a
		// PostgreSQL left running kept the jest worker from exiting).
		const [redisStart, postgresStart] = await Promise.all([
			settle(startRedis()),
			settle(startPostgres()),
		]);
		redis = redisStart.ok ? redisStart.value : undefined;
		postgres = postgresStart.ok ? postgresStart.value : undefined;
		if (!redisStart.ok) throw redisStart.error;
		if (!postgresStart.ok) throw postgresStart.error;
		say(
			`Redis on ${redisStart.value.port}, PostgreSQL on ${postgresStart.value.port} in ${Date.now() - started} ms`,
		);

		const ports = await freePorts(2 + 2 * WORKERS);
		const env = {
			EXECUTIONS_MODE: 'queue',
			// The main's address, for every process: a worker makes Send and Wait's links.
			WEBHOOK_URL: `http://127.0.0.1:${ports[0]}/`,
			...n8nRedisEnv(redisStart.value),
			...n8nPostgresEnv(postgresStart.value),
			// Every process must decrypt the credentials the main stored.
			N8N_ENCRYPTION_KEY: randomBytes(24).toString('hex'),
			N8N_DEFAULT_BINARY_DATA_MODE: 'filesystem',
			// n8n 2.40 calls it N8N_STORAGE_PATH (N8N_BINARY_DATA_STORAGE_PATH is deprecated).
			N8N_STORAGE_PATH: binaryDataDir,
			// JSON lines keep the metadata (workerId, executionId) the proof below reads.
			N8N_LOG_FORMAT: 'json',
		};
		const options = (name: string, port: number, brokerPort: number): StartN8nOptions => ({
			userFolder: path.join(root, name),
			port,
			brokerPort,
			installation,
			env,
		});

		// The main first: it runs the database migrations the workers then find done.
		started = Date.now();
		main = await startN8n(options('main', ports[0], ports[1]));
		say(`n8n main ready on ${main.url} in ${Date.now() - started} ms (log: ${main.logFile})`);
		started = Date.now();
		await Promise.all(
			Array.from({ length: WORKERS }, async (_, i) => {
				const worker = await startN8n({
					...options(`worker-${i + 1}`, ports[2 + 2 * i], ports[3 + 2 * i]),
					command: 'worker',
					args: [`--concurrency=${WORKER_CONCURRENCY}`],
				});
				workers.push(worker);
			}),
		);
		say(`${WORKERS} workers ready in ${Date.now() - started} ms`);

		client = new N8nClient(main.url);
		credential = await setUpN8n(client, owner, AGENT);
	}, SETUP_TIMEOUT_MS);

	let activeWorkflowId: string | undefined;

	/**
	 * Creates and activates the auto-reply workflow of `npm run dev` (AgentMail Trigger, mark
	 * read after the run → Reply) whose reply attaches the binary properties `attachments` names,
	 * after deactivating the one before (one trigger on the inbox at a time).
	 */
	async function activateAutoReply(attachments: string): Promise<string> {
		if (activeWorkflowId) await client.deactivateWorkflow(activeWorkflowId);
		const workflow = loadDemoWorkflow(DEMO_WORKFLOWS.autoReply, credential);
		const reply = (workflow.nodes as Array<{ name: string; parameters: object }>).find(
			(node) => node.name === 'Reply',
		);
		if (!reply) throw new Error('the demo workflow has no Reply node');
		reply.parameters = { ...reply.parameters, options: { attachments } };
		const workflowId = await client.createWorkflow(workflow);
		await client.activateWorkflow(workflowId);
		activeWorkflowId = workflowId;
		await waitForTriggerStart(client, workflowId, TRIGGER_NODE, PROCESSING_TIMEOUT_MS);
		return workflowId;
	}

	afterAll(async () => {
		await Promise.all([...workers, main].map(async (server) => await server?.stop()));
		// AGENTMAIL_E2E_KEEP=1 keeps the folders (logs, binary data, database) for a look.
		const keep = Boolean(process.env.AGENTMAIL_E2E_KEEP);
		await Promise.all([redis?.stop(keep), postgres?.stop(keep)]);
		if (root && !keep) await rm(root, { recursive: true, force: true });
	}, TEARDOWN_TIMEOUT_MS);

	it(
		'answers 300 mails once each, runs on the workers, attachments intact, originals marked read',
		async () => {
			// The reply sends the incoming attachment back: it crosses from the main (where the
			// trigger stored it) to a worker (which reads it) through the shared folder.
			const workflowId = await activateAutoReply(ATTACHMENT_PROPERTY);

			const mails = Array.from({ length: MAILS }, (_, i) => mailWithAttachment(i + 1));
			const started = Date.now();
			for (let i = 0; i < mails.length; i += DELIVERY_PARALLELISM) {
				const slice = mails.slice(i, i + DELIVERY_PARALLELISM);
				await Promise.all(slice.map(async (mail) => await deliver(AGENT, mail.raw)));
			}
			say(`${MAILS} mails delivered in ${Date.now() - started} ms`);

			await waitUntil(`${MAILS} replies in peer’s INBOX`, async () => {
				return (await folderCounts(PEER)).messages >= MAILS;
			});
			const repliedAt = Date.now();
			say(`${MAILS} replies in ${repliedAt - started} ms after the first delivery`);
			await waitUntil(`all ${MAILS} originals marked read`, async () => {
				return (await folderCounts(AGENT)).unseen === 0;
			});
			say(`all originals marked read ${Date.now() - repliedAt} ms after the last reply arrived`);
			const ended = await waitForOutcome(
				`${MAILS} ended executions`,
				async () => {
					const runs = await client.executions(workflowId, false);
					return runs.length >= MAILS && runs.every((run) => run.stoppedAt !== null)
						? runs
						: undefined;
				},
				PROCESSING_TIMEOUT_MS,
			);
			say(`${ended.length} executions ended, ${Date.now() - started} ms after the first delivery`);

			await sleep(QUIET_PERIOD_MS);

			// 300 executions, all successful trigger runs, none more.
			const executions: Execution[] = await client.executions(workflowId);
			expect(executions).toHaveLength(MAILS);
			expect(executions.filter((run) => run.status !== 'success')).toEqual([]);
			expect(new Set(executions.map((run) => run.mode))).toEqual(new Set(['trigger']));
			const executionIds = executions.map((run) => String(run.id)).sort();

			// Each ran on a worker: every execution is in exactly one worker's log, both workers
			// took a share, the main ran none, and the main heard of each from the worker that ran it.
			const ranBy = workers.map(
				(worker) =>
					new Set(
						executionIdsLogged(logEntries(worker.logFile), /^Worker finished execution (\d+) /),
					),
			);
			ranBy.forEach((ids, i) => say(`worker ${i + 1} ran ${ids.size} executions`));
			expect(ranBy.flatMap((ids) => [...ids]).sort()).toEqual(executionIds);
			for (const ids of ranBy) expect(ids.size).toBeGreaterThan(0);
			const mainEntries = logEntries(main!.logFile);
			expect(
				executionIdsLogged(mainEntries, /^Worker (?:started|finished) execution (\d+)/),
			).toEqual([]);
			const reportedBy = new Map<string, string>();
			for (const entry of mainEntries) {
				const match = /^Execution (\d+) \(job \S+\) finished/.exec(entry.message);
				if (match) reportedBy.set(match[1], String(entry.metadata.workerId));
			}
			expect([...reportedBy.keys()].sort()).toEqual(executionIds);
			// `worker-<hostname>` (a container) or `worker-<random id>`; a main's id is `main-...`.
			expect(new Set([...reportedBy.values()].map((id) => id.split('-')[0]))).toEqual(
				new Set(['worker']),
			);

			// The binary data went through the shared folder, not the database or the queue.
			for (const run of executions) {
				const [item] = run.data?.resultData.runData[TRIGGER_NODE]?.[0]?.data?.main[0] ?? [];
				expect(item?.binary?.[ATTACHMENT_PROPERTY]?.id).toMatch(/^filesystem(-v2)?:/);
			}
			expect((await filesBelow(binaryDataDir)).length).toBeGreaterThanOrEqual(MAILS);

			// 300 replies, one per original, each with the original's attachment byte for byte.
			const byMessageId = new Map(mails.map((mail) => [mail.messageId, mail]));
			const replies = await listMessages(PEER, 'INBOX');
			expect(replies).toHaveLength(MAILS);
			const answered: string[] = [];
			for (const message of replies) {
				const parsed = await simpleParser(message.source);
				const original = byMessageId.get(parsed.inReplyTo ?? '');
				expect(original).toBeDefined();
				answered.push(parsed.inReplyTo ?? '');
				expect(parsed.attachments).toHaveLength(1);
				const [attachment] = parsed.attachments;
				expect(attachment.filename).toBe(original?.fileName);
				expect(sha256(attachment.content)).toBe(original?.sha256);
			}
			expect(new Set(answered).size).toBe(MAILS);

			// Every original marked read (the trigger's after-run action, on the main).
			const originals = await listMessages(AGENT, 'INBOX');
			expect(originals).toHaveLength(MAILS);
			expect(originals.filter((message) => !message.flags.includes('\\Seen'))).toEqual([]);

			// Nothing more during or after the quiet period.
			expect(await client.executions(workflowId, false)).toHaveLength(MAILS);
			expect((await folderCounts(PEER)).messages).toBe(MAILS);
		},
		TEST_TIMEOUT_MS,
	);
	it(
		'leaves the mail of a run that failed on a worker unread; marks the successful one read',
		async () => {
			// The reply fails on purpose (a binary property the item does not have) for a mail whose
			// subject says so.
			const workflowId = await activateAutoReply(
				`={{ $json.subject.includes('fail') ? 'no_such_property' : '${ATTACHMENT_PROPERTY}' }}`,
			);
			const repliesBefore = (await folderCounts(PEER)).messages;
			const failing = mailWithAttachment(MAILS + 1, 'Please fail');
			const good = mailWithAttachment(MAILS + 2, 'A good one');
			await deliver(AGENT, failing.raw);
			await deliver(AGENT, good.raw);

			const runs = await waitForOutcome(
				'two ended executions',
				async () => {
					const found = await client.executions(workflowId, false);
					return found.length >= 2 && found.every((run) => run.stoppedAt !== null)
						? found
						: undefined;
				},
				PROCESSING_TIMEOUT_MS,
			);
			expect(runs.map((run) => run.status).sort()).toEqual(['error', 'success']);
			await waitUntil('the good mail to be marked read', async () => {
				const inbox = await listMessages(AGENT, 'INBOX');
				const original = inbox.find((message) => message.messageId === good.messageId);
				return original?.flags.includes('\\Seen') === true;
			});

			await sleep(QUIET_PERIOD_MS);
			const inbox = await listMessages(AGENT, 'INBOX');
			const failed = inbox.find((message) => message.messageId === failing.messageId);
			expect(failed?.flags).not.toContain('\\Seen');
			const executions = await client.executions(workflowId);
			expect(executions).toHaveLength(2);
			const error = executions.find((run) => run.status === 'error')?.data?.resultData.error;
			expect(error?.message).toContain('no_such_property');
			const replies = await listMessages(PEER, 'INBOX');
			expect(replies).toHaveLength(repliesBefore + 1);
			expect(replies.at(-1)?.source.toString()).toContain(good.messageId);
		},
		TEST_TIMEOUT_MS,
	);

	it(
		'Send and Wait: the question goes out from a worker, the answer on the main resumes it on a worker',
		async () => {
			const tag = randomBytes(4).toString('hex');
			const subject = `Queue question ${tag}`;
			const workflowId = await client.createWorkflow(
				askWorkflow(`Ask ${tag}`, `ask-${tag}`, credential, {
					subject,
					message: 'Ship the replacement?',
					responseType: 'approval',
				}),
			);
			await client.activateWorkflow(workflowId);
			await startByWebhook(client.baseUrl, `ask-${tag}`, { tag });
			const { links } = await questionLinks(subject);
			await waitForOutcome('the execution to wait', async () => {
				const [run] = await client.executions(workflowId, false);
				return run?.status === 'waiting' ? true : undefined;
			});
			expect((await answer(links.Approve)).status).toBe(200);
			const done = await waitForOutcome(
				'the answered execution to end',
				async () => {
					const runs = await client.executions(workflowId);
					return runs.length === 1 && runs[0].status === 'success' ? runs[0] : undefined;
				},
				PROCESSING_TIMEOUT_MS,
			);
			expect(askOutput(done)[0].data).toEqual({ approved: true, respondedAt: expect.any(String) });
			// Both parts ran on workers: the one that sent the question and the resumed one.
			const id = String(done.id);
			const workerRuns = workers.flatMap((worker) =>
				executionIdsLogged(logEntries(worker.logFile), /^Worker finished execution (\d+) /),
			);
			expect(workerRuns.filter((run) => run === id)).toHaveLength(2);
			expect(
				executionIdsLogged(
					logEntries(main!.logFile),
					/^Worker (?:started|finished) execution (\d+)/,
				),
			).not.toContain(id);
			await client.deactivateWorkflow(workflowId);
		},
		TEST_TIMEOUT_MS,
	);
	it(
		'Reply by Email: the question goes out from a worker (which says it cannot see the main’s trigger), the reply reaches the trigger on the main, and the execution resumes on a worker with the decision; the reply starts no trigger run',
		async () => {
			// The trigger on the inbox is what hands replies over; one trigger on it at a time.
			if (activeWorkflowId) await client.deactivateWorkflow(activeWorkflowId);
			const watcherId = await client.createWorkflow(
				replyWatcherWorkflow('Replies (queue)', credential),
			);
			await client.activateWorkflow(watcherId);
			activeWorkflowId = watcherId;
			await waitForTriggerStart(client, watcherId, TRIGGER_NODE, PROCESSING_TIMEOUT_MS);
			const tag = randomBytes(4).toString('hex');
			const subject = `Queue reply ${tag}`;
			const workflowId = await client.createWorkflow(
				askWorkflow(`Ask by reply ${tag}`, `ask-reply-${tag}`, credential, {
					subject,
					message: 'Refund order 77?',
					responseType: 'approval',
					replyByEmail: true,
				}),
			);
			await client.activateWorkflow(workflowId);
			await startByWebhook(client.baseUrl, `ask-reply-${tag}`, { tag });
			await waitForOutcome('the execution to wait', async () => {
				const [run] = await client.executions(workflowId, false);
				return run?.status === 'waiting' ? true : undefined;
			});
			const replyId = await replyToQuestion(subject, 'Yes, go ahead');
			const done = await waitForOutcome(
				'the execution resumed by the reply to end',
				async () => {
					const runs = await client.executions(workflowId);
					return runs.length === 1 && runs[0].status === 'success' ? runs[0] : undefined;
				},
				PROCESSING_TIMEOUT_MS,
			);
			const [item] = askOutput(done);
			expect(item.data).toMatchObject({ approved: true, text: 'Yes, go ahead' });
			expect(item.messageId).toBe(replyId);
			// Both parts ran on workers: the one that sent the question and the resumed one.
			const id = String(done.id);
			const workerRuns = workers.flatMap((worker) =>
				executionIdsLogged(logEntries(worker.logFile), /^Worker finished execution (\d+) /),
			);
			expect(workerRuns.filter((run) => run === id)).toHaveLength(2);
			const warned = workers.filter((worker) =>
				readFileSync(worker.logFile, 'utf8').includes(
					'Reply by Email cannot check from this worker whether an AgentMail Trigger watches',
				),
			);
			expect(warned).toHaveLength(1);
			await sleep(QUIET_PERIOD_MS);
			expect(await watcherRunsWith(client, watcherId, replyId)).toEqual([]);
			await client.deactivateWorkflow(workflowId);
		},
		TEST_TIMEOUT_MS,
	);
});
