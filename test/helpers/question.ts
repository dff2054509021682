/**
 * Send and Wait's question, asked by the node in the harness as n8n would ask it in one
 * execution (its id keys the question's Send Once): answer links, and Reply by Email when asked
 * for (the question's Message-ID then carries the reply token; no webhook is needed to send it). What the profile tests check: the question goes out once.
 */
import { randomUUID } from 'node:crypto';

import { AgentMail } from '../../nodes/AgentMail/AgentMail.node';
import { runNode } from './nodeHarness';
import { credentialData } from './sandbox';

/** n8n signs resume URLs with HMAC-SHA256 in hex; the harness's stands in for one. */
const SIGNATURE = 'ab'.repeat(32);

/**
 * Asks `to` the approval question `subject` from `inbox` in execution `execution`; with
 * `replyByEmail`, an AgentMail Trigger must be active on `inbox` in this process.
 */
export async function askQuestion(
	inbox: string,
	to: string,
	subject: string,
	execution: string,
	{ replyByEmail = false } = {},
) {
	const waits: Date[] = [];
	const run = await runNode({
		node: new AgentMail(),
		credentials: credentialData(inbox),
		parameters: {
			resource: 'message',
			operation: 'sendAndWait',
			sendTo: to,
			subject,
			message: `${subject} Please answer.`,
			responseType: 'approval',
			replyByEmail,
			options: {},
		},
		items: [{ json: {} }],
		extra: {
			getExecutionId: () => execution,
			getSignedResumeUrl: (query: Record<string, string> = {}) =>
				`http://localhost:5678/webhook-waiting/${execution}/test-node?${new URLSearchParams({ ...query, signature: SIGNATURE }).toString()}`,
			putExecutionToWait: async (until: Date) => {
				waits.push(until);
			},
		},
	});
	return { ...run, waits, item: run.output[0][0].json };
}

/**
 * The same question asked twice in one execution, `between` run in between (time for a late
 * Sent copy): what a retry of the node does.
 */
export async function askTwice(
	inbox: string,
	to: string,
	between: () => Promise<unknown> = async () => undefined,
) {
	const execution = randomUUID();
	const subject = `Approve ${execution.slice(0, 8)}?`;
	const first = await askQuestion(inbox, to, subject, execution);
	await between();
	const again = await askQuestion(inbox, to, subject, execution);
	return { subject, first, again };
}

/** The first ask sent the question and put the execution to wait; the second sent nothing. */
export function expectAskedOnce(
	first: Awaited<ReturnType<typeof askQuestion>>,
	again: Awaited<ReturnType<typeof askQuestion>>,
): void {
	expect(first.item).toMatchObject({ sent: true });
	expect(first.waits).toHaveLength(1);
	expect(again.item).toMatchObject({
		sent: false,
		alreadySent: true,
		messageId: first.item.messageId,
	});
}
