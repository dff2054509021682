/**
 * End to end, the Human review tool n8n 2.41 builds from the AgentMail node's Send and Wait: an
 * AI Agent (the scripted OpenAI stand-in) wants to call a tool that mails a customer; the
 * AgentMail Human review tool between them mails an approver first, and the tool runs only when
 * the approver approves on the link's page. Declined, the tool does not run and the agent is
 * told so.
 */
import { randomBytes, randomUUID } from 'node:crypto';

import { PACKAGE_NAME, type WorkflowInput } from '../../tools/n8n/server';
import {
	messageText,
	startFakeOpenAi,
	type ChatRequest,
	type FakeOpenAi,
	type ScriptedAnswer,
} from '../helpers/fakeOpenAi';
import { listMessages } from '../helpers/sandbox';
import { agentWorkflow, fakeOpenAiCredential } from './agent';
import {
	answer,
	questionLinks,
	replyToQuestion,
	replyWatcherWorkflow,
	WATCHER_NODE,
	watcherRunsWith,
} from './sendAndWait';
import {
	activateAlone,
	AGENT,
	makeOwner,
	PEER,
	setUpN8n,
	startByWebhook,
	useOwnN8n,
	waitForOutcome,
	webhookNode,
} from './support';

/** The agent's run, the approval mail, the answer and the tool's mail take seconds. */
const TEST_TIMEOUT_MS = 4 * 60_000;
const GATED = 'Mail Customer';
const REVIEW = 'Human review';
const DONE = 'Done.';

type Reference = { id: string; name: string };

/** Webhook → AI Agent, whose one tool (AgentMail Send) is gated by AgentMail's Human review. */
function reviewedAgent(
	webhookPath: string,
	credential: Reference,
	openAi: Reference,
	review: Record<string, unknown> = {},
): WorkflowInput {
	const workflow = agentWorkflow({
		name: `Reviewed agent ${webhookPath}`,
		trigger: webhookNode(webhookPath),
		prompt: '=Tell the customer: {{ $json.body.news }}',
		systemMessage: 'Mail the customer when asked.',
		credential,
		openAi,
		tools: {
			[GATED]: {
				resource: 'message',
				operation: 'send',
				to: PEER,
				subject: "={{ $fromAI('subject', 'The subject of the mail', 'string') }}",
				emailFormat: 'text',
				text: 'Your refund is on its way.',
			},
		},
	});
	workflow.nodes.push({
		id: randomUUID(),
		name: REVIEW,
		type: `${PACKAGE_NAME}.agentMailHitlTool`,
		typeVersion: 1,
		position: [450, 450],
		webhookId: randomUUID(),
		parameters: {
			sendTo: PEER,
			subject: `Approve tool call ${webhookPath}`,
			approvalOptions: { values: { approvalType: 'double' } },
			...review,
		},
		credentials: { agentMailInboxApi: credential },
	});
	const connections = workflow.connections as Record<string, unknown>;
	connections[GATED] = { ai_tool: [[{ node: REVIEW, type: 'ai_tool', index: 0 }]] };
	connections[REVIEW] = { ai_tool: [[{ node: 'AI Agent', type: 'ai_tool', index: 0 }]] };
	return workflow;
}

/** Turn 1: call the gated tool with a subject; then done. */
function model(subject: string) {
	return (request: ChatRequest): ScriptedAnswer => {
		if (!request.messages.some((message) => message.role === 'tool')) {
			const name = (request.tools ?? []).find((t) => t.function.name.includes('Mail'))?.function
				.name;
			if (!name) throw new Error(`no gated tool among ${request.tools?.length} offered`);
			return { call: { name, arguments: { toolParameters: { subject }, hitlParameters: {} } } };
		}
		return { text: DONE };
	};
}

describe('AgentMail as the Human review tool of an AI Agent, inside n8n', () => {
	const n8n = useOwnN8n('agentmail-n8n-review-');
	let openAi: FakeOpenAi | undefined;

	afterAll(async () => await openAi?.close());

	/**
	 * Runs the agent and answers the approval mail with the link `label`, or with a reply of
	 * `{ reply }` (Reply by Email on); returns what the agent did.
	 */
	async function reviewed(label: 'Approve' | 'Decline' | { reply: string }) {
		const client = n8n();
		const tag = randomBytes(4).toString('hex');
		const subject = `Refund ${tag}`;
		await openAi?.close();
		openAi = await startFakeOpenAi(model(subject));
		const openAiCredential = await fakeOpenAiCredential(client, openAi);
		const webhookPath = `review-${tag}`;
		const byReply = typeof label === 'object';
		const workflowId = await client.createWorkflow(
			reviewedAgent(
				webhookPath,
				agentCredential!,
				openAiCredential,
				byReply ? { replyByEmail: true } : {},
			),
		);
		await client.activateWorkflow(workflowId);
		await startByWebhook(client.baseUrl, webhookPath, { news: 'refund sent' });
		const { links, text } = await questionLinks(`Approve tool call ${webhookPath}`);
		expect(text).toContain('The agent wants to run this tool');
		const replyId = byReply
			? await replyToQuestion(`Approve tool call ${webhookPath}`, label.reply)
			: undefined;
		if (!byReply) expect((await answer(links[label])).status).toBe(200);
		const run = await waitForOutcome('the agent to finish', async () => {
			const runs = await client.executions(workflowId);
			return runs.length === 1 && runs[0].status === 'success' ? runs[0] : undefined;
		});
		await client.deactivateWorkflow(workflowId);
		const mailed = (await listMessages(PEER, 'INBOX')).filter((m) => m.subject === subject);
		const toolMessages = openAi.requests
			.flatMap((request) => request.messages)
			.filter((message) => message.role === 'tool')
			.map(messageText);
		return { run, mailed, toolMessages, replyId };
	}

	let agentCredential: Reference | undefined;

	it(
		'approved: the gated tool runs and the customer gets the mail',
		async () => {
			agentCredential = await setUpN8n(n8n(), makeOwner(), AGENT);
			const { mailed, toolMessages } = await reviewed('Approve');
			expect(mailed).toHaveLength(1);
			expect(toolMessages.join('\n')).not.toMatch(/denied|declined|not approved/i);
		},
		TEST_TIMEOUT_MS,
	);

	it(
		'declined: the tool does not run and the agent is told',
		async () => {
			const { mailed, toolMessages } = await reviewed('Decline');
			expect(mailed).toHaveLength(0);
			expect(toolMessages.join('\n')).toMatch(/denied|declined|not approved|rejected/i);
		},
		TEST_TIMEOUT_MS,
	);

	it(
		'by reply: "Yes, go ahead" runs the tool; a reply without a decision does not, and the agent gets its words',
		async () => {
			const client = n8n();
			// Reply by Email needs an active AgentMail Trigger on the approver's replies' inbox.
			const watcherId = await activateAlone(
				client,
				undefined,
				replyWatcherWorkflow('Replies', agentCredential!),
				WATCHER_NODE,
			);
			const approved = await reviewed({ reply: 'Yes, go ahead' });
			expect(approved.mailed).toHaveLength(1);
			const undecided = await reviewed({ reply: 'Make it a voucher instead' });
			expect(undecided.mailed).toHaveLength(0);
			expect(undecided.toolMessages.join('\n')).toContain('Make it a voucher instead');
			// Both replies were answers: the trigger started no run with them.
			for (const { replyId } of [approved, undecided]) {
				expect(await watcherRunsWith(client, watcherId, replyId!)).toHaveLength(0);
			}
			await client.deactivateWorkflow(watcherId);
		},
		TEST_TIMEOUT_MS,
	);
});
