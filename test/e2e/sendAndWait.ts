/**
 * The Send and Wait workflows of the end-to-end tests, and the person who answers: a Webhook →
 * AgentMail Send and Wait workflow, the question's links read from the mail peer received,
 * and the answer posted as the link's page posts it.
 */
import { randomUUID } from 'node:crypto';

import { simpleParser } from 'mailparser';

import {
	PACKAGE_NAME,
	type Execution,
	type N8nClient,
	type WorkflowInput,
} from '../../tools/n8n/server';
import { deliver, listMessages } from '../helpers/sandbox';
import { AGENT, PEER, peerMailHeaders, waitForOutcome, webhookNode } from './support';

/** The Send and Wait node's name in {@link askWorkflow}. */
export const ASK_NODE = 'Ask';
/** What a person's browser sends; the links ignore clients that look automated. */
export const BROWSER =
	'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36';

type Json = Record<string, unknown>;

/** Webhook (POST `webhookPath`) → AgentMail Send and Wait to peer with `parameters`. */
export function askWorkflow(
	name: string,
	webhookPath: string,
	credential: { id: string; name: string },
	parameters: Json,
): WorkflowInput {
	return {
		name,
		nodes: [
			webhookNode(webhookPath),
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

/** The mail with `subject` in peer's INBOX, once it arrived, and its answer links by label. */
export async function questionLinks(
	subject: string,
): Promise<{ links: Record<string, string>; text: string }> {
	const message = await waitForOutcome(`the question "${subject}" at ${PEER}`, async () =>
		(await listMessages(PEER, 'INBOX')).find((m) => m.subject === subject),
	);
	const text = (await simpleParser(message.source)).text ?? '';
	const links: Record<string, string> = {};
	for (const match of text.matchAll(/^(.+): (https?:\/\/\S+)$/gm)) links[match[1]] = match[2];
	return { links, text };
}

/** Posts `form` to a link as its page's form does (multipart, from a browser). */
export async function answer(
	url: string,
	form: Record<string, string | string[]> = {},
	userAgent = BROWSER,
): Promise<Response> {
	const body = new FormData();
	for (const [name, value] of Object.entries(form)) {
		for (const one of Array.isArray(value) ? value : [value]) body.append(name, one);
	}
	return await fetch(url, { method: 'POST', headers: { 'user-agent': userAgent }, body });
}

/** The Ask node's output items of an execution (its last run). */
export function askOutput(execution: Execution): Json[] {
	const runs = execution.data?.resultData.runData[ASK_NODE] ?? [];
	const items = runs[runs.length - 1]?.data?.main[0] ?? [];
	return items.map((item) => item.json as Json);
}

/** The AgentMail Trigger's node name in {@link replyWatcherWorkflow}. */
export const WATCHER_NODE = 'AgentMail Trigger';

/**
 * An AgentMail Trigger on the agent's INBOX and nothing after it: what Reply by Email needs
 * active. Each run it starts is a mail that was not taken as an answer.
 */
export function replyWatcherWorkflow(
	name: string,
	credential: { id: string; name: string },
): WorkflowInput {
	return {
		name,
		nodes: [
			{
				id: randomUUID(),
				name: WATCHER_NODE,
				type: `${PACKAGE_NAME}.agentMailTrigger`,
				typeVersion: 1,
				position: [0, 0],
				parameters: { folder: 'INBOX', afterRun: 'nothing' },
				credentials: { agentMailInboxApi: credential },
			},
		],
		connections: {},
	};
}

/** Peer replies to the question with `subject` (as a mail client does: In-Reply-To, References). */
export async function replyToQuestion(subject: string, text: string): Promise<string> {
	const question = await waitForOutcome(`the question "${subject}" at ${PEER}`, async () =>
		(await listMessages(PEER, 'INBOX')).find((m) => m.subject === subject),
	);
	const questionId = question.messageId ?? '';
	const messageId = `<reply.${randomUUID()}@agentmail.test>`;
	const raw = [
		...peerMailHeaders(`Re: ${subject}`, messageId),
		`In-Reply-To: ${questionId}`,
		`References: ${questionId}`,
		'Content-Type: text/plain; charset=utf-8',
		'',
		text,
		'',
		`On ${new Date().toUTCString()}, Agent <${AGENT}> wrote:`,
		'> the question',
		'',
	].join('\r\n');
	await deliver(AGENT, raw);
	return messageId;
}

/**
 * The runs of the watcher workflow `workflowId` started by the mail with `messageId` (other
 * tests' mail may start runs of their own there).
 */
export async function watcherRunsWith(
	client: N8nClient,
	workflowId: string,
	messageId: string,
): Promise<Execution[]> {
	return (await client.executions(workflowId)).filter((run) =>
		(run.data?.resultData.runData[WATCHER_NODE] ?? []).some((task) =>
			(task.data?.main[0] ?? []).some((item) => (item.json as Json).messageId === messageId),
		),
	);
}
