/**
 * The AI Agent workflows of the end-to-end tests: a trigger → n8n's AI Agent, whose model is
 * n8n's OpenAI Chat Model pointed at the fake endpoint (test/helpers/fakeOpenAi.ts) and whose
 * tools are AgentMail nodes.
 */
import { randomBytes } from 'node:crypto';

import type { N8nClient, WorkflowInput } from '../../tools/n8n/server';
import type { FakeOpenAi } from '../helpers/fakeOpenAi';

const PACKAGE = 'n8n-nodes-agentmail-inbox';

type Reference = { id: string; name: string };

export interface AgentWorkflow {
	name: string;
	/** The trigger node, as a workflow holds it; its `name` is what the agent is connected to. */
	trigger: { name: string } & Record<string, unknown>;
	/** The agent's prompt (an expression on the trigger's item). */
	prompt: string;
	systemMessage: string;
	/** The AgentMail credential every tool uses. */
	credential: Reference;
	/** The OpenAI credential that points at the fake endpoint. */
	openAi: Reference;
	/** One AgentMail tool node per entry: its node name (n8n names the tool after it) and parameters. */
	tools: Record<string, Record<string, unknown>>;
}

export function agentWorkflow(input: AgentWorkflow): WorkflowInput {
	const id = (k: number) => `b1b2c3d4-0000-4000-8000-00000000000${k}`;
	const toolNodes = Object.entries(input.tools).map(([name, parameters], k) => ({
		id: id(4 + k),
		name,
		type: `${PACKAGE}.agentMailTool`,
		typeVersion: 1,
		position: [450 + k * 150, 250] as [number, number],
		parameters,
		credentials: { agentMailInboxApi: input.credential },
	}));
	return {
		name: input.name,
		nodes: [
			input.trigger,
			{
				id: id(2),
				name: 'AI Agent',
				type: '@n8n/n8n-nodes-langchain.agent',
				typeVersion: 3.1,
				position: [300, 0],
				parameters: {
					promptType: 'define',
					text: input.prompt,
					options: { systemMessage: input.systemMessage },
				},
			},
			{
				id: id(3),
				name: 'OpenAI Chat Model',
				type: '@n8n/n8n-nodes-langchain.lmChatOpenAi',
				typeVersion: 1.3,
				position: [200, 250],
				parameters: {
					model: { __rl: true, mode: 'id', value: 'gpt-fake' },
					responsesApiEnabled: false,
					options: {},
				},
				credentials: { openAiApi: input.openAi },
			},
			...toolNodes,
		],
		connections: {
			[input.trigger.name]: { main: [[{ node: 'AI Agent', type: 'main', index: 0 }]] },
			'OpenAI Chat Model': {
				ai_languageModel: [[{ node: 'AI Agent', type: 'ai_languageModel', index: 0 }]],
			},
			...Object.fromEntries(
				Object.keys(input.tools).map((name) => [
					name,
					{ ai_tool: [[{ node: 'AI Agent', type: 'ai_tool', index: 0 }]] },
				]),
			),
		},
	};
}

/** Creates n8n's OpenAI credential for the fake endpoint, with a made-up key. */
export async function fakeOpenAiCredential(
	client: N8nClient,
	openAi: FakeOpenAi,
): Promise<Reference> {
	const name = 'OpenAI (fake endpoint)';
	const apiKey = `sk-${randomBytes(16).toString('hex')}`;
	return {
		id: await client.createCredential(name, 'openAiApi', { apiKey, url: openAi.baseUrl }),
		name,
	};
}
