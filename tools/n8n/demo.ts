/**
 * The demo workflows in tools/n8n/demo/*.json and what it takes to bring one into an n8n: the
 * AgentMail credential is referenced by id, which only exists once the credential is created,
 * so the files leave it empty and {@link loadDemoWorkflow} fills it in.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

import type { N8nClient, WorkflowInput } from './server';

/** The credential type of the package's nodes. */
export const CREDENTIAL_TYPE = 'agentMailInboxApi';

/** Folder with the demo workflows. */
export const DEMO_DIR = path.resolve(__dirname, 'demo');

/** The demo workflows: file name in {@link DEMO_DIR}. */
export const DEMO_WORKFLOWS = {
	/** AgentMail Trigger → AgentMail Reply; imported active. */
	autoReply: 'auto-reply-agent.json',
	/** Schedule Trigger → AgentMail Send; imported inactive, an example to start from. */
	digest: 'scheduled-digest.json',
} as const;

/** The trigger node's name in the auto-reply workflow. */
export const AUTO_REPLY_TRIGGER_NODE = 'AgentMail Trigger';

/** Pause between two looks at the workflow's static data. */
const TRIGGER_POLL_INTERVAL_MS = 500;

interface WorkflowNode {
	credentials?: Record<string, { id: string; name: string }>;
	[key: string]: unknown;
}

/**
 * Reads a demo workflow and points every node that uses the AgentMail credential at
 * `credential`.
 */
export function loadDemoWorkflow(
	file: string,
	credential: { id: string; name: string },
): WorkflowInput {
	const workflow = JSON.parse(readFileSync(path.join(DEMO_DIR, file), 'utf8')) as WorkflowInput;
	for (const node of workflow.nodes as WorkflowNode[]) {
		if (node.credentials?.[CREDENTIAL_TYPE]) {
			node.credentials[CREDENTIAL_TYPE] = { id: credential.id, name: credential.name };
		}
	}
	return workflow;
}

/**
 * Waits until an activated workflow's AgentMail Trigger has really started: n8n 2.40 applies an
 * activation in the background, and the trigger records the folder's UIDVALIDITY in the
 * workflow's static data once it has opened the folder.
 */
export async function waitForTriggerStart(
	client: N8nClient,
	workflowId: string,
	triggerNode: string,
	timeoutMs: number,
): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const workflow = await client.getWorkflow(workflowId);
		const staticData = workflow.staticData as Record<string, { uidValidity?: string }> | null;
		if (staticData?.[`node:${triggerNode}`]?.uidValidity) return;
		if (Date.now() > deadline) {
			throw new Error(
				`the ${triggerNode} of workflow ${workflowId} did not start within ${timeoutMs} ms`,
			);
		}
		await new Promise<void>((resolve) => setTimeout(resolve, TRIGGER_POLL_INTERVAL_MS));
	}
}
