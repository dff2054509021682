/**
 * End to end in n8n's editor: Debian's Chromium, headless, driven by playwright-core (never a
 * browser that Playwright downloads). An n8n of its own on free ports, with the demo auto-reply
 * workflow (tools/n8n/demo/) imported as `npm run dev` does; the test opens the AgentMail
 * Trigger's panel, checks that the node shows its icon and parameters, and saves a screenshot
 * to docs/trigger-panel.png (the README shows it).
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import type { Browser, Page } from 'playwright-core';

import {
	AUTO_REPLY_TRIGGER_NODE,
	DEMO_WORKFLOWS,
	loadDemoWorkflow,
	waitForTriggerStart,
} from '../../tools/n8n/demo';
import { installN8n } from '../../tools/n8n/install';
import { N8nClient, PACKAGE_NAME, startN8n, type N8nServer } from '../../tools/n8n/server';
import { useOwnSandbox } from '../helpers/sandbox';
import { freePorts } from '../../tools/sandbox/sandbox';
import {
	ensureBuilt,
	launchChromium,
	makeOwner,
	OUTCOME_TIMEOUT_MS,
	PROJECT_ROOT,
	say,
	SETUP_TIMEOUT_MS,
	setUpN8n,
	waitForOutcome,
} from './support';

/** The editor's first load compiles nothing but fetches several MB of scripts. */
const TEST_TIMEOUT_MS = 3 * 60_000;
/** One step in the browser: a page load, a click, an element to appear. */
const UI_STEP_TIMEOUT_MS = 60_000;
/** Stopping the browser and n8n. */
const TEARDOWN_TIMEOUT_MS = 2 * 60_000;

const VIEWPORT = { width: 1440, height: 900 };
const SCREENSHOT = path.join(PROJECT_ROOT, 'docs', 'trigger-panel.png');
const AGENT = 'agent@agentmail.test';
/** The trigger's parameters as the panel labels them. */
const PARAMETER_LABELS = ['Folder Name or ID', 'Start From', 'After the Run', 'Runs'];

useOwnSandbox();

describe('the AgentMail Trigger in n8n’s editor (headless Chromium)', () => {
	// Its password is made up at run time; it lives only in this run's temporary user folder.
	const owner = makeOwner();
	let userFolder: string | undefined;
	let server: N8nServer | undefined;
	let browser: Browser | undefined;
	let workflowId: string;

	beforeAll(async () => {
		await ensureBuilt();
		await installN8n({ log: say });
		userFolder = await mkdtemp(path.join(os.tmpdir(), 'agentmail-n8n-editor-'));
		const [port, brokerPort] = await freePorts(2);
		server = await startN8n({ userFolder, port, brokerPort });
		const client = new N8nClient(server.url);
		const credential = await setUpN8n(client, owner, AGENT);
		workflowId = await client.createWorkflow(
			loadDemoWorkflow(DEMO_WORKFLOWS.autoReply, credential),
		);
		await client.activateWorkflow(workflowId);
		await waitForTriggerStart(client, workflowId, AUTO_REPLY_TRIGGER_NODE, OUTCOME_TIMEOUT_MS);
		browser = await launchChromium();
	}, SETUP_TIMEOUT_MS);

	afterAll(async () => {
		await browser?.close();
		await server?.stop();
		if (userFolder && !process.env.AGENTMAIL_E2E_KEEP) {
			await rm(userFolder, { recursive: true, force: true });
		}
	}, TEARDOWN_TIMEOUT_MS);

	async function signIn(page: Page): Promise<void> {
		await page.goto(`${server!.url}/signin`);
		await page.locator('#emailOrLdapLoginId').fill(owner.email);
		await page.locator('#password').fill(owner.password);
		await page.getByRole('button', { name: 'Sign in' }).click();
		await page.waitForURL((url) => !url.pathname.startsWith('/signin'));
	}

	it(
		'shows the demo workflow’s AgentMail Trigger with its icon, and its panel with the parameters',
		async () => {
			const page = await browser!.newPage({ viewport: VIEWPORT });
			page.setDefaultTimeout(UI_STEP_TIMEOUT_MS);
			await signIn(page);
			await page.goto(`${server!.url}/workflow/${workflowId}`);

			const node = page.locator(
				`[data-test-id="canvas-node"][data-node-name="${AUTO_REPLY_TRIGGER_NODE}"]`,
			);
			await node.waitFor();
			expect(await node.getAttribute('data-node-type')).toBe(`${PACKAGE_NAME}.agentMailTrigger`);
			// The icon is the package's own SVG, served by n8n, and it loaded.
			const icon = node.locator('img').first();
			await icon.waitFor();
			expect(await icon.getAttribute('src')).toBe(
				`/icons/${PACKAGE_NAME}/dist/icons/agentmail.svg`,
			);
			await waitForOutcome('the icon to load', async () => {
				const loaded = await icon.evaluate((image) => {
					// No DOM types in this project's TypeScript setup: what is read of an <img>.
					const img = image as unknown as { complete: boolean; naturalWidth: number };
					return img.complete && img.naturalWidth > 0;
				});
				return loaded ? true : undefined;
			});

			await node.dblclick();
			const panel = page.locator('[data-test-id="ndv"]');
			await panel.waitFor();
			// Visible texts only: the panel also keeps hidden copies (e.g. to measure the title).
			const visibleText = (text: string) =>
				panel.getByText(text, { exact: true }).filter({ visible: true }).first();
			await visibleText(AUTO_REPLY_TRIGGER_NODE).waitFor();
			for (const label of PARAMETER_LABELS) await visibleText(label).waitFor();
			// The chosen values, as the demo workflow sets them.
			// The folder list comes from the inbox over IMAP (the node's loadOptions): once it has
			// loaded, the chosen folder shows instead of "Loading options...".
			const inputValues = async () =>
				await panel
					.locator('input')
					.evaluateAll((inputs) =>
						inputs.map((input) => (input as unknown as { value: string }).value),
					);
			await waitForOutcome('the folder list to load', async () =>
				(await inputValues()).includes('INBOX') ? true : undefined,
			);
			expect(await inputValues()).toEqual(
				expect.arrayContaining(['INBOX', 'New Mail Only', 'Mark as Read']),
			);
			await expect(
				panel.locator(`img[src="/icons/${PACKAGE_NAME}/dist/icons/agentmail.svg"]`).count(),
			).resolves.toBeGreaterThan(0);

			await mkdir(path.dirname(SCREENSHOT), { recursive: true });
			await page.screenshot({ path: SCREENSHOT });
			say(`screenshot: ${path.relative(PROJECT_ROOT, SCREENSHOT)}`);
			await page.close();
		},
		TEST_TIMEOUT_MS,
	);
});
