/**
 * End to end, Message → Send and Wait for Response in a real n8n: the question reaches the
 * person's inbox with signed links; opening a link (a person, a scanner, a preview) shows a page
 * and records nothing; only a person's POST from that page resumes the execution, with the
 * output n8n's own Send and Wait nodes give; a second answer changes nothing. Free text, a
 * custom form, the wait limit, bad input, and the Human review tool n8n builds from the node.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';

import { simpleParser } from 'mailparser';

import { PACKAGE_NAME, type Execution, type N8nClient } from '../../tools/n8n/server';
import { listMessages } from '../helpers/sandbox';
import { answer, askOutput, askWorkflow, BROWSER, questionLinks } from './sendAndWait';
import {
	AGENT,
	launchChromium,
	makeOwner,
	PEER,
	PROJECT_ROOT,
	setUpN8n,
	startByWebhook,
	useOwnN8n,
	waitForOutcome,
} from './support';

/** One question, its answer and the resumed run take seconds; the wait limit up to n8n's 60 s poll. */
const TEST_TIMEOUT_MS = 4 * 60_000;

type Json = Record<string, unknown>;
/** A laptop's window, for the screenshots. */
const VIEWPORT = { width: 900, height: 600 };

describe('Send and Wait in n8n', () => {
	// As behind a reverse proxy: the editor under a sub-path, the links through another address.
	const n8n = useOwnN8n('agentmail-n8n-send-and-wait-', {
		behindProxy: true,
		env: { N8N_PATH: '/sub/' },
	});
	let client: N8nClient;
	let credential: { id: string; name: string };

	beforeAll(async () => {
		client = n8n();
		credential = await setUpN8n(client, makeOwner(), AGENT);
	});

	/** Activates a Send and Wait workflow and starts one execution; returns its subject and id. */
	async function ask(parameters: Json): Promise<{ subject: string; workflowId: string }> {
		const tag = randomBytes(4).toString('hex');
		const subject = (parameters.subject as string | undefined) ?? `Question ${tag}`;
		const webhookPath = `ask-${tag}`;
		const workflowId = await client.createWorkflow(
			askWorkflow(`Ask ${tag}`, webhookPath, credential, { subject, ...parameters }),
		);
		await client.activateWorkflow(workflowId);
		await startByWebhook(client.baseUrl, webhookPath, { orderId: tag });
		return { subject, workflowId };
	}

	async function onlyExecution(workflowId: string, status: string): Promise<Execution> {
		return await waitForOutcome(`the execution to be ${status}`, async () => {
			const runs = await client.executions(workflowId);
			return runs.length === 1 && runs[0].status === status ? runs[0] : undefined;
		});
	}

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
			const { links } = await questionLinks(subject);
			// n8n answers the links only once the execution is saved as waiting, a moment after the send.
			await onlyExecution(workflowId, 'waiting');
			expect(Object.keys(links).sort()).toEqual(['Keep', 'Refund']);
			// The links go through n8n's public address (WEBHOOK_URL, the proxy), not its own.
			expect(new URL(links.Refund).origin).not.toBe(new URL(client.baseUrl).origin);
			expect(new URL(links.Refund).pathname).toMatch(/^\/webhook-waiting\//);
			// A person, a scanner without a user agent and a preview bot open the link: a page each.
			for (const userAgent of [BROWSER, '', 'Mozilla/5.0 (compatible; SkypeUriPreview)']) {
				const page = await fetch(links.Refund, { headers: { 'user-agent': userAgent } });
				expect(page.status).toBe(200);
				const html = await page.text();
				expect(html).toContain('Refund order 1042 (EUR 120)?');
				expect(html).toContain('<form method="post" action="" enctype="multipart/form-data">');
			}
			// A bot's POST is ignored too.
			expect((await answer(links.Refund, {}, 'Mozilla/5.0 (compatible; bingbot/2.0)')).status).toBe(
				204,
			);
			await onlyExecution(workflowId, 'waiting');

			const answered = await answer(links.Refund, {});
			expect(answered.status).toBe(200);
			expect(await answered.text()).toContain('your answer was recorded');
			const done = await onlyExecution(workflowId, 'success');
			const [item] = askOutput(done);
			expect(item.data).toEqual({ approved: true, respondedAt: expect.any(String) });

			// The other answer, later: n8n no longer waits, nothing changes.
			const late = await answer(links.Keep, {});
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
			const { links } = await questionLinks(subject);
			// n8n answers the links only once the execution is saved as waiting, a moment after the send.
			await onlyExecution(workflowId, 'waiting');
			const page = await (await fetch(links.Answer, { headers: { 'user-agent': BROWSER } })).text();
			expect(page).toContain('<textarea id="text" name="text"');
			// An empty answer shows the page again and records nothing.
			expect((await answer(links.Answer, { text: '  ' })).status).toBe(400);
			await onlyExecution(workflowId, 'waiting');
			expect((await answer(links.Answer, { text: 'Offer them 10% off.' })).status).toBe(200);
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
			const { links } = await questionLinks(subject);
			// n8n answers the links only once the execution is saved as waiting, a moment after the send.
			await onlyExecution(workflowId, 'waiting');
			const page = await (
				await fetch(links.Respond, { headers: { 'user-agent': BROWSER } })
			).text();
			expect(page).toContain('name="field-0"');
			expect(page).toContain('value="Gift wrap"');
			// A required field left empty: the page again, nothing recorded.
			expect((await answer(links.Respond, { 'field-1': '3' })).status).toBe(400);
			expect(
				(await answer(links.Respond, { 'field-0': 'Jane', 'field-1': '3', 'field-2': ['Express'] }))
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

	it(
		'a person in a browser: the mail’s link opens the page, its button records the answer (screenshots for the README)',
		async () => {
			const { subject, workflowId } = await ask({
				subject: 'Refund order 1042?',
				message:
					'Jane Doe asks for a refund of EUR 120 for order 1042 (damaged on arrival).\nShould I refund it?',
				responseType: 'approval',
				approvalOptions: {
					values: { approvalType: 'double', approveLabel: 'Refund', disapproveLabel: 'Keep' },
				},
			});
			const html = await waitForOutcome('the question’s HTML part', async () => {
				const message = (await listMessages(PEER, 'INBOX')).find((m) => m.subject === subject);
				return message ? ((await simpleParser(message.source)).html as string) : undefined;
			});
			await onlyExecution(workflowId, 'waiting');
			const browser = await launchChromium();
			try {
				// A person's browser: headless Chromium's own user agent counts as automated.
				const context = await browser.newContext({ userAgent: BROWSER, viewport: VIEWPORT });
				const page = await context.newPage();
				await page.setContent(html);
				await page.screenshot({ path: path.join(PROJECT_ROOT, 'docs', 'send-and-wait-mail.png') });
				await Promise.all([
					page.waitForURL(/webhook-waiting/),
					page.getByRole('link', { name: 'Refund' }).click(),
				]);
				await page.getByRole('button', { name: 'Refund' }).waitFor();
				await page.screenshot({ path: path.join(PROJECT_ROOT, 'docs', 'send-and-wait-page.png') });
				await onlyExecution(workflowId, 'waiting');
				await page.getByRole('button', { name: 'Refund' }).click();
				await page.getByText('your answer was recorded').waitFor();
			} finally {
				await browser.close();
			}
			const done = await onlyExecution(workflowId, 'success');
			expect(askOutput(done)[0].data).toEqual({ approved: true, respondedAt: expect.any(String) });
			await client.deactivateWorkflow(workflowId);
		},
		TEST_TIMEOUT_MS,
	);

	it('n8n offers the node as a Human review tool for AI Agents', async () => {
		const types = await client.nodeTypes();
		expect(types.map((type) => type.name)).toContain(`${PACKAGE_NAME}.agentMailHitlTool`);
	});
});
