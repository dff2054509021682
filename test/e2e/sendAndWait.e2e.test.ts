/**
 * End to end, Message → Send and Wait for Response in a real n8n: the question reaches the
 * person's inbox with signed links; opening a link (a person, a scanner, a preview) shows a page
 * and records nothing; only a person's POST from that page resumes the execution, with the
 * output n8n's own Send and Wait nodes give; a second answer changes nothing. Free text, a
 * custom form, the wait limit, bad input, and the Human review tool n8n builds from the node.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { simpleParser } from 'mailparser';

import { installN8n } from '../../scripts/n8n/install';
import {
	N8nClient,
	PACKAGE_NAME,
	startN8n,
	type Execution,
	type N8nServer,
	type WorkflowInput,
} from '../../scripts/n8n/server';
import { listMessages } from '../helpers/sandbox';
import { freePorts } from '../sandbox/sandbox';
import {
	AGENT,
	ensureBuilt,
	makeOwner,
	PEER,
	say,
	SETUP_TIMEOUT_MS,
	setUpN8n,
	TEARDOWN_TIMEOUT_MS,
	waitFor,
} from './support';

/** One question, its answer and the resumed run take seconds; the wait limit up to n8n's 60 s poll. */
const TEST_TIMEOUT_MS = 4 * 60_000;
const ASK_NODE = 'Ask';
/** What a person's browser sends; the links ignore clients that look automated. */
const BROWSER =
	'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36';

type Json = Record<string, unknown>;

/** Webhook → AgentMail Send and Wait with `parameters`. */
function askWorkflow(
	name: string,
	webhookPath: string,
	credential: { id: string; name: string },
	parameters: Json,
): WorkflowInput {
	return {
		name,
		nodes: [
			{
				id: randomUUID(),
				name: 'Webhook',
				type: 'n8n-nodes-base.webhook',
				typeVersion: 2,
				position: [0, 0],
				webhookId: randomUUID(),
				parameters: {
					httpMethod: 'POST',
					path: webhookPath,
					responseMode: 'onReceived',
					options: {},
				},
			},
			{
				id: randomUUID(),
				name: ASK_NODE,
				type: `${PACKAGE_NAME}.agentMail`,
				typeVersion: 1,
				position: [300, 0],
				webhookId: randomUUID(),
				parameters: { resource: 'message', operation: 'sendAndWait', sendTo: PEER, ...parameters },
				credentials: { agentMailInboxApi: credential },
			},
		],
		connections: { Webhook: { main: [[{ node: ASK_NODE, type: 'main', index: 0 }]] } },
	};
}

/** The links of the question with `subject` in peer's INBOX, by label, once it arrived. */
async function questionLinks(subject: string): Promise<Record<string, string>> {
	const message = await waitFor(`the question "${subject}" at ${PEER}`, async () =>
		(await listMessages(PEER, 'INBOX')).find((m) => m.subject === subject),
	);
	const parsed = await simpleParser(message.source);
	const links: Record<string, string> = {};
	for (const match of (parsed.text ?? '').matchAll(/^(.+): (https?:\/\/\S+)$/gm)) {
		links[match[1]] = match[2];
	}
	return links;
}

/** The Ask node's output items of an execution (its last run). */
function askOutput(execution: Execution): Json[] {
	const runs = execution.data?.resultData.runData[ASK_NODE] ?? [];
	const items = runs[runs.length - 1]?.data?.main[0] ?? [];
	return items.map((item) => item.json as Json);
}

describe('Send and Wait in n8n', () => {
	let userFolder: string;
	let server: N8nServer | undefined;
	let client: N8nClient;
	let credential: { id: string; name: string };

	beforeAll(async () => {
		await ensureBuilt();
		await installN8n({ log: say });
		userFolder = await mkdtemp(path.join(os.tmpdir(), 'agentmail-n8n-send-and-wait-'));
		const [port, brokerPort] = await freePorts(2);
		server = await startN8n({ userFolder, port, brokerPort });
		client = new N8nClient(server.url);
		credential = await setUpN8n(client, makeOwner(), AGENT);
	}, SETUP_TIMEOUT_MS);

	afterAll(async () => {
		await server?.stop();
		if (userFolder && !process.env.AGENTMAIL_E2E_KEEP) {
			await rm(userFolder, { recursive: true, force: true });
		}
	}, TEARDOWN_TIMEOUT_MS);

	/** Activates a Send and Wait workflow and starts one execution; returns its subject and id. */
	async function ask(parameters: Json): Promise<{ subject: string; workflowId: string }> {
		const tag = randomBytes(4).toString('hex');
		const subject = (parameters.subject as string | undefined) ?? `Question ${tag}`;
		const webhookPath = `ask-${tag}`;
		const workflowId = await client.createWorkflow(
			askWorkflow(`Ask ${tag}`, webhookPath, credential, { subject, ...parameters }),
		);
		await client.activateWorkflow(workflowId);
		// n8n registers an activated workflow's webhook a moment after the activate call.
		await waitFor('the webhook to answer', async () => {
			const response = await fetch(`${server!.url}/webhook/${webhookPath}`, {
				method: 'POST',
				headers: { 'content-type': 'application/json' },
				body: JSON.stringify({ orderId: tag }),
			});
			return response.ok ? true : undefined;
		});
		return { subject, workflowId };
	}

	async function onlyExecution(workflowId: string, status: string): Promise<Execution> {
		return await waitFor(`the execution to be ${status}`, async () => {
			const runs = await client.executions(workflowId);
			return runs.length === 1 && runs[0].status === status ? runs[0] : undefined;
		});
	}

	/** Posts `form` as the answer page's form does (multipart). */
	const post = async (
		url: string,
		form: Record<string, string | string[]>,
		userAgent = BROWSER,
	) => {
		const body = new FormData();
		for (const [name, value] of Object.entries(form)) {
			for (const one of Array.isArray(value) ? value : [value]) body.append(name, one);
		}
		return await fetch(url, { method: 'POST', headers: { 'user-agent': userAgent }, body });
	};

	it(
		'approval: opening the link records nothing, the page’s POST resumes with approved: true, a second POST changes nothing',
		async () => {
			const { subject, workflowId } = await ask({
				message: 'Refund order 1042 (EUR 120)?',
				responseType: 'approval',
				approvalOptions: {
					values: { approvalType: 'double', approveLabel: 'Refund', disapproveLabel: 'Keep' },
				},
			});
			const links = await questionLinks(subject);
			expect(Object.keys(links).sort()).toEqual(['Keep', 'Refund']);
			await onlyExecution(workflowId, 'waiting');

			// A person, a scanner without a user agent and a preview bot open the link: a page each.
			for (const userAgent of [BROWSER, '', 'Mozilla/5.0 (compatible; SkypeUriPreview)']) {
				const page = await fetch(links.Refund, { headers: { 'user-agent': userAgent } });
				expect(page.status).toBe(200);
				const html = await page.text();
				expect(html).toContain('Refund order 1042 (EUR 120)?');
				expect(html).toContain('<form method="post" action="" enctype="multipart/form-data">');
			}
			// A bot's POST is ignored too.
			expect((await post(links.Refund, {}, 'Mozilla/5.0 (compatible; bingbot/2.0)')).status).toBe(
				204,
			);
			await onlyExecution(workflowId, 'waiting');

			const answered = await post(links.Refund, {});
			expect(answered.status).toBe(200);
			expect(await answered.text()).toContain('your answer was recorded');
			const done = await onlyExecution(workflowId, 'success');
			const [item] = askOutput(done);
			expect(item.data).toEqual({ approved: true, respondedAt: expect.any(String) });

			// The other answer, later: n8n no longer waits, nothing changes.
			const late = await post(links.Keep, {});
			expect(await late.text()).toContain('No action required');
			const after = await onlyExecution(workflowId, 'success');
			expect(askOutput(after)[0].data).toEqual(item.data);
			await client.deactivateWorkflow(workflowId);
		},
		TEST_TIMEOUT_MS,
	);

	it(
		'free text: the page asks for an answer and the execution resumes with data.text',
		async () => {
			const { subject, workflowId } = await ask({
				message: 'What should the reply to ACME say?',
				responseType: 'freeText',
				options: { messageButtonLabel: 'Answer' },
			});
			const links = await questionLinks(subject);
			const page = await (await fetch(links.Answer, { headers: { 'user-agent': BROWSER } })).text();
			expect(page).toContain('<textarea id="text" name="text"');
			// An empty answer shows the page again and records nothing.
			expect((await post(links.Answer, { text: '  ' })).status).toBe(400);
			await onlyExecution(workflowId, 'waiting');
			expect((await post(links.Answer, { text: 'Offer them 10% off.' })).status).toBe(200);
			const done = await onlyExecution(workflowId, 'success');
			expect(askOutput(done)[0].data).toEqual({
				text: 'Offer them 10% off.',
				respondedAt: expect.any(String),
			});
			await client.deactivateWorkflow(workflowId);
		},
		TEST_TIMEOUT_MS,
	);

	it(
		'custom form: the answers come back by field label',
		async () => {
			const { subject, workflowId } = await ask({
				message: 'Tell us about the delivery.',
				responseType: 'customForm',
				defineForm: 'fields',
				formFields: {
					values: [
						{ fieldLabel: 'Name', fieldType: 'text', requiredField: true },
						{ fieldLabel: 'Boxes', fieldType: 'number' },
						{
							fieldLabel: 'Extras',
							fieldType: 'checkbox',
							fieldOptions: { values: [{ option: 'Gift wrap' }, { option: 'Express' }] },
						},
					],
				},
			});
			const links = await questionLinks(subject);
			const page = await (
				await fetch(links.Respond, { headers: { 'user-agent': BROWSER } })
			).text();
			expect(page).toContain('name="field-0"');
			expect(page).toContain('value="Gift wrap"');
			// A required field left empty: the page again, nothing recorded.
			expect((await post(links.Respond, { 'field-1': '3' })).status).toBe(400);
			expect(
				(await post(links.Respond, { 'field-0': 'Jane', 'field-1': '3', 'field-2': ['Express'] }))
					.status,
			).toBe(200);
			const done = await onlyExecution(workflowId, 'success');
			expect(askOutput(done)[0].data).toEqual({
				Name: 'Jane',
				Boxes: 3,
				Extras: ['Express'],
				respondedAt: expect.any(String),
			});
			await client.deactivateWorkflow(workflowId);
		},
		TEST_TIMEOUT_MS,
	);

	it(
		'the wait limit: with no answer the execution goes on with the input item and no data',
		async () => {
			const { subject, workflowId } = await ask({
				message: 'Anyone?',
				responseType: 'approval',
				options: {
					limitWaitTime: {
						values: { limitType: 'afterTimeInterval', resumeAmount: 0.1, resumeUnit: 'minutes' },
					},
				},
			});
			await questionLinks(subject);
			const done = await onlyExecution(workflowId, 'success');
			const [item] = askOutput(done);
			expect(item.data).toBeUndefined();
			expect(item.body).toEqual({ orderId: expect.any(String) });
			await client.deactivateWorkflow(workflowId);
		},
		TEST_TIMEOUT_MS,
	);

	it(
		'bad input sends nothing: no recipient, a form with no fields, a wait limit in the past',
		async () => {
			const cases: Array<[Json, string]> = [
				// An expression that comes out empty (n8n itself refuses to publish a literal empty To).
				[{ sendTo: '={{ $json.body.approver }}' }, 'To is empty'],
				[
					{ responseType: 'customForm', defineForm: 'fields', formFields: { values: [] } },
					'has no fields',
				],
				[
					{
						options: {
							limitWaitTime: {
								values: { limitType: 'atSpecifiedTime', maxDateAndTime: '2020-01-01T00:00:00Z' },
							},
						},
					},
					'has passed',
				],
			];
			for (const [parameters, error] of cases) {
				const { subject, workflowId } = await ask({ message: 'Never sent', ...parameters });
				const failed = await onlyExecution(workflowId, 'error');
				expect(failed.data?.resultData.error?.message).toContain(error);
				expect((await listMessages(PEER, 'INBOX')).some((m) => m.subject === subject)).toBe(false);
				await client.deactivateWorkflow(workflowId);
			}
		},
		TEST_TIMEOUT_MS,
	);

	it('n8n offers the node as a Human review tool for AI Agents', async () => {
		const types = await client.nodeTypes();
		expect(types.map((type) => type.name)).toContain(`${PACKAGE_NAME}.agentMailHitlTool`);
	});
});
