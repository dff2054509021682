/**
 * The compatibility matrix (npm run test:matrix): for each n8n version of MATRIX_VERSIONS (or
 * the comma-separated AGENTMAIL_MATRIX_VERSIONS), the package packed by `npm pack` and installed
 * into a fresh n8n's nodes folder as Settings → Community Nodes installs it (not linked), then:
 * both nodes and the credential load, the credential test passes through n8n's REST API, the
 * trigger answers a mail with the Reply node, and a failed run leaves its mail unread.
 *
 * Each version is installed on first use into `versions/<version>/` of the n8n cache folder.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { lstat, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { installPackedPackage, packToTemporaryFolder } from '../../tools/n8n/communityPackage';
import {
	AUTO_REPLY_TRIGGER_NODE,
	CREDENTIAL_TYPE,
	DEMO_WORKFLOWS,
	loadDemoWorkflow,
} from '../../tools/n8n/demo';
import { installN8n, MATRIX_VERSIONS } from '../../tools/n8n/install';
import {
	N8nClient,
	PACKAGE_NAME,
	startN8n,
	type N8nServer,
	type WorkflowInput,
} from '../../tools/n8n/server';
import {
	activateAlone,
	AGENT,
	ensureBuilt,
	failReplyWhenSubjectSaysFail,
	mailFromPeer,
	makeOwner,
	repliesToPeer,
	say,
	SETUP_TIMEOUT_MS,
	setUpN8n,
	stopN8n,
	TEARDOWN_TIMEOUT_MS,
	waitForOutcome,
	waitUntilRead,
} from '../e2e/support';
import { deliver, listMessages } from '../helpers/sandbox';
import { freePorts } from '../../tools/sandbox/sandbox';

/** One test: a run takes well under a second; n8n may take a few to start the trigger. */
const TEST_TIMEOUT_MS = 3 * 60_000;
/** After a failed run, how long its mail must stay unread. */
const QUIET_PERIOD_MS = 5_000;

const versions = process.env.AGENTMAIL_MATRIX_VERSIONS?.split(',') ?? [...MATRIX_VERSIONS];

let packed: { tarball: string; dir: string } | undefined;

beforeAll(async () => {
	await ensureBuilt();
	packed = await packToTemporaryFolder();
	say(`packed ${path.basename(packed.tarball)}`);
}, SETUP_TIMEOUT_MS);

afterAll(async () => {
	if (packed) await rm(packed.dir, { recursive: true, force: true });
});

describe.each(versions)(
	'n8n %s with the packed package installed as a community node',
	(version) => {
		const owner = makeOwner();
		let userFolder: string | undefined;
		let server: N8nServer | undefined;
		let client: N8nClient;
		let credential: { id: string; name: string };
		let workflowId: string | undefined;

		beforeAll(async () => {
			const installation = await installN8n({ version, log: say });
			userFolder = await mkdtemp(path.join(os.tmpdir(), `agentmail-matrix-${version}-`));
			const folder = await installPackedPackage(userFolder, packed!.tarball);
			say(`n8n ${version}: ${PACKAGE_NAME} installed into ${folder}`);
			const [port, brokerPort] = await freePorts(2);
			server = await startN8n({ userFolder, port, brokerPort, installation, linkPackage: false });
			say(`n8n ${version} ready on ${server.url} (log: ${server.logFile})`);
			client = new N8nClient(server.url);
			credential = await setUpN8n(client, owner, AGENT);
		}, SETUP_TIMEOUT_MS);

		afterAll(async () => await stopN8n(server, userFolder), TEARDOWN_TIMEOUT_MS);

		/** Makes `workflow` the inbox's one active workflow and waits for its trigger to start. */
		async function activateOnly(workflow: WorkflowInput): Promise<void> {
			workflowId = await activateAlone(client, workflowId, workflow, AUTO_REPLY_TRIGGER_NODE);
		}

		it('loads both nodes and the credential from the installed package, a real folder', async () => {
			const folder = path.join(userFolder!, '.n8n', 'nodes', 'node_modules', PACKAGE_NAME);
			expect((await lstat(folder)).isSymbolicLink()).toBe(false);
			expect((await lstat(path.join(folder, 'dist'))).isDirectory()).toBe(true);
			const nodes = (await client.nodeTypes()).map((type) => type.name);
			expect(nodes).toEqual(
				expect.arrayContaining([`${PACKAGE_NAME}.agentMail`, `${PACKAGE_NAME}.agentMailTrigger`]),
			);
			const credentials = (await client.credentialTypes()).map((type) => type.name);
			expect(credentials).toContain(CREDENTIAL_TYPE);
		});

		it(
			'passes the credential test through n8n’s REST API',
			async () => {
				expect(await client.testCredential(credential.id)).toEqual(
					expect.objectContaining({ status: 'OK' }),
				);
			},
			TEST_TIMEOUT_MS,
		);

		it(
			'answers a mail with the Reply node, in its thread, and marks it read',
			async () => {
				await activateOnly(loadDemoWorkflow(DEMO_WORKFLOWS.autoReply, credential));
				const mail = mailFromPeer(`Hello n8n ${version}`);
				await deliver(AGENT, mail.raw);
				const [reply] = await waitForOutcome('the reply in peer’s INBOX', async () => {
					const found = (await repliesToPeer()).filter((one) => one.inReplyTo === mail.messageId);
					return found.length > 0 ? found : undefined;
				});
				expect(reply.subject).toBe(`Re: Hello n8n ${version}`);
				await waitUntilRead(mail.messageId, 'the original to be marked read');
				const runs = await client.executions(workflowId);
				expect(runs.map((run) => run.status)).toEqual(['success']);
			},
			TEST_TIMEOUT_MS,
		);

		it(
			'leaves the mail of a failed run unread',
			async () => {
				const workflow = loadDemoWorkflow(DEMO_WORKFLOWS.autoReply, credential);
				await activateOnly(failReplyWhenSubjectSaysFail(workflow));
				const mail = mailFromPeer(`Please fail on n8n ${version}`);
				await deliver(AGENT, mail.raw);
				const [run] = await waitForOutcome('the failed execution', async () => {
					const ended = (await client.executions(workflowId)).filter((one) => one.stoppedAt);
					return ended.length > 0 ? ended : undefined;
				});
				expect(run.status).toBe('error');
				await sleep(QUIET_PERIOD_MS);
				const inbox = await listMessages(AGENT, 'INBOX');
				const original = inbox.find((message) => message.messageId === mail.messageId);
				expect(original).toBeDefined();
				expect(original?.flags).not.toContain('\\Seen');
				const replies = await repliesToPeer();
				expect(replies.filter((one) => one.inReplyTo === mail.messageId)).toHaveLength(0);
			},
			TEST_TIMEOUT_MS,
		);
	},
);
