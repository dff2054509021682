/**
 * End to end, the README's "agent that reads the thread before answering" in a real n8n: the
 * AgentMail Trigger hands a follow-up mail to n8n's AI Agent, whose tools are three AgentMail
 * nodes (Get Many, Thread → Get, Reply). The scripted model (the OpenAI stand-in) searches the
 * inbox for earlier mail from the sender, reads the conversation of the oldest hit, and replies
 * in it, each step built from what the tool before it returned.
 */
import { randomBytes } from 'node:crypto';

import { simpleParser } from 'mailparser';

import type { WorkflowInput } from '../../tools/n8n/server';
import {
	messageText,
	startFakeOpenAi,
	type ChatRequest,
	type FakeOpenAi,
	type ScriptedAnswer,
} from '../helpers/fakeOpenAi';
import { deliver, imapClient, listMessages, useOwnSandbox } from '../helpers/sandbox';
import {
	activateAlone,
	AGENT,
	makeOwner,
	PEER,
	peerMailHeaders,
	setUpN8n,
	useOwnN8n,
	waitForOutcome,
} from './support';
import { agentWorkflow, fakeOpenAiCredential } from './agent';

/** n8n's start is in useOwnN8n; the run itself is four model turns and three tool calls. */
const TEST_TIMEOUT_MS = 3 * 60_000;
const PACKAGE = 'n8n-nodes-agentmail-inbox';
const TRIGGER = 'AgentMail Trigger';
/** What the earlier answer in Sent promised; the model quotes it, so it must have read it. */
const PROMISE = 'Order 4711 ships on Monday.';
const DONE = 'I have answered in the thread.';

useOwnSandbox();

/** Trigger → AI Agent with three AgentMail tools: search, the thread, reply. */
function threadAgent(
	credential: { id: string; name: string },
	openAi: { id: string; name: string },
): WorkflowInput {
	return agentWorkflow({
		name: 'Agent that reads the thread (e2e)',
		trigger: {
			id: `${randomBytes(4).toString('hex')}-0000-4000-8000-000000000020`,
			name: TRIGGER,
			type: `${PACKAGE}.agentMailTrigger`,
			typeVersion: 1,
			position: [0, 0],
			parameters: { folder: 'INBOX', afterRun: 'markRead' },
			credentials: { agentMailInboxApi: credential },
		},
		prompt: '=Mail from {{ $json.from.address }}: {{ $json.replyText }}',
		systemMessage: 'Read the earlier mail before you answer.',
		credential,
		openAi,
		tools: {
			'Search Inbox': {
				resource: 'message',
				operation: 'getMany',
				folder: 'INBOX',
				format: 'headers',
				limit: 10,
				filters: { from: "={{ $fromAI('from', 'The sender address to look for', 'string') }}" },
			},
			'Read Thread': {
				resource: 'thread',
				operation: 'get',
				messageFrom: 'messageId',
				messageId: "={{ $fromAI('messageId', 'A Message-ID of the conversation', 'string') }}",
				format: 'full',
			},
			Reply: {
				resource: 'message',
				operation: 'reply',
				source: 'inputItem',
				emailFormat: 'text',
				text: "={{ $fromAI('text', 'The answer to the customer', 'string') }}",
			},
		},
	});
}

type Json = Record<string, unknown>;

/** The tool results n8n has sent the model so far, parsed, oldest first. */
function toolResults(request: ChatRequest): Json[][] {
	return request.messages
		.filter((message) => message.role === 'tool')
		.map((message) => JSON.parse(messageText(message)) as Json[]);
}

/** The offered tool whose name contains `word` (n8n names each tool after its node). */
function tool(request: ChatRequest, word: string): string {
	const found = (request.tools ?? []).find((t) => t.function.name.includes(word));
	if (!found)
		throw new Error(`no tool named like ${word} among the ${request.tools?.length} offered`);
	return found.function.name;
}

/**
 * The scripted model. Turn 1: search for the sender the prompt names. Turn 2: the conversation
 * of the oldest hit. Turn 3: a reply quoting the agent's earlier answer found in that
 * conversation. Then done.
 */
function model(request: ChatRequest): ScriptedAnswer {
	const results = toolResults(request);
	if (results.length === 0) {
		const prompt = request.messages.map(messageText).join('\n');
		const from = /Mail from (\S+):/.exec(prompt)?.[1];
		if (!from) throw new Error(`the prompt names no sender: ${prompt}`);
		return { call: { name: tool(request, 'Search'), arguments: { from } } };
	}
	if (results.length === 1) {
		const oldest = results[0].at(-1);
		return { call: { name: tool(request, 'Thread'), arguments: { messageId: oldest?.messageId } } };
	}
	if (results.length === 2) {
		const messages = (results[1][0]?.messages ?? []) as Json[];
		const earlier = messages.find((m) => (m.from as Json | null)?.address === AGENT);
		if (!earlier) throw new Error('the thread holds no earlier answer of the agent');
		const text = `As we wrote: ${String(earlier.text).trim()} Nothing has changed.`;
		return { call: { name: tool(request, 'Reply'), arguments: { text } } };
	}
	return { text: DONE };
}

/** A plain-text mail with the given header lines, as LMTP or APPEND takes it. */
function mail(headers: string[], body: string): string {
	return [...headers, 'Content-Type: text/plain; charset=utf-8', '', body, ''].join('\r\n');
}

describe('an AI Agent that reads the thread before answering, inside n8n', () => {
	const n8n = useOwnN8n('agentmail-n8n-agent-');
	let openAi: FakeOpenAi | undefined;

	afterAll(async () => await openAi?.close());

	it(
		'searches the inbox for the sender, reads the conversation of the oldest hit, and replies in it',
		async () => {
			const client = n8n();
			const credential = await setUpN8n(client, makeOwner(), AGENT);
			openAi = await startFakeOpenAi(model);
			const openAiCredential = await fakeOpenAiCredential(client, openAi);

			// The conversation so far, in place before the workflow is active (read, so no run):
			// the peer's question in INBOX and the agent's answer in Sent.
			const id = () => `<e2e.${randomBytes(8).toString('hex')}@agentmail.test>`;
			const [first, answer, followUp] = [id(), id(), id()];
			const imap = await imapClient(AGENT);
			try {
				await imap.append(
					'INBOX',
					mail(peerMailHeaders('Order 4711', first), 'When does my order ship?'),
					['\\Seen'],
				);
				const sent = [
					`From: Agent <${AGENT}>`,
					`To: Peer <${PEER}>`,
					'Subject: Re: Order 4711',
					`Message-ID: ${answer}`,
					`In-Reply-To: ${first}`,
					`References: ${first}`,
					`Date: ${new Date().toUTCString()}`,
					'MIME-Version: 1.0',
				];
				await imap.append('Sent', mail(sent, PROMISE), ['\\Seen']);
			} finally {
				await imap.logout();
			}

			const workflowId = await activateAlone(
				client,
				undefined,
				threadAgent(credential, openAiCredential),
				TRIGGER,
			);
			// The peer's follow-up, answering the agent's answer.
			await deliver(
				AGENT,
				mail(
					[
						...peerMailHeaders('Re: Order 4711', followUp),
						`In-Reply-To: ${answer}`,
						`References: ${first} ${answer}`,
					],
					'Any news?',
				),
			);

			const run = await waitForOutcome('the agent’s run to end', async () => {
				const [latest] = await client.executions(workflowId);
				return latest?.stoppedAt ? latest : undefined;
			});
			expect(run.status).toBe('success');
			const requests = openAi.requests;
			expect(requests).toHaveLength(4);
			// The three AgentMail tools were on offer, and nothing else.
			expect(requests[0].tools).toHaveLength(3);

			const [search, thread, reply] = toolResults(requests[3]);
			// The search: the peer's two mails, newest first, each with where it is.
			expect(search.map((m) => m.messageId)).toEqual([followUp, first]);
			expect(search.every((m) => typeof m.uid === 'number' && m.folder === 'INBOX')).toBe(true);
			// The conversation of the oldest hit: all three, oldest first, across INBOX and Sent.
			expect(thread).toHaveLength(1);
			expect(thread[0]).toMatchObject({ count: 3, truncated: false });
			expect((thread[0].messages as Json[]).map((m) => [m.messageId, m.folder])).toEqual([
				[first, 'INBOX'],
				[answer, 'Sent'],
				[followUp, 'INBOX'],
			]);
			expect(reply).toEqual([expect.objectContaining({ sent: true })]);

			// The reply reached the peer in the thread, with what the agent read in it.
			const atPeer = await waitForOutcome('the reply in peer’s INBOX', async () => {
				const [message] = await listMessages(PEER, 'INBOX');
				return message ? await simpleParser(message.source) : undefined;
			});
			expect(atPeer.subject).toBe('Re: Order 4711');
			expect(atPeer.inReplyTo).toBe(followUp);
			expect(atPeer.references).toEqual([first, answer, followUp]);
			expect(atPeer.text).toContain(`As we wrote: ${PROMISE}`);
			expect(await client.executions(workflowId)).toHaveLength(1);
		},
		TEST_TIMEOUT_MS,
	);
});
