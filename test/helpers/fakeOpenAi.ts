/**
 * A stand-in for OpenAI's Chat Completions endpoint, for end-to-end tests of the AgentMail node
 * as a tool of n8n's AI Agent. No language model is reachable from here, so a script the test
 * writes decides each answer; everything else is real: n8n's own OpenAI Chat Model node talks
 * to it over HTTP as it would to OpenAI (the credential's Base URL points here), and n8n's AI
 * Agent runs the tool calls it answers with.
 */
import http from 'node:http';
import type net from 'node:net';

/** One message of a conversation as OpenAI's API carries it. */
export interface ChatMessage {
	role: string;
	content?: string | null | Array<{ type: string; text?: string }>;
	tool_calls?: Array<{ id: string; function: { name: string; arguments: string } }>;
	tool_call_id?: string;
}

/** A tool the caller offers the model. */
export interface ChatTool {
	type: string;
	function: {
		name: string;
		description?: string;
		parameters?: { properties?: Record<string, unknown>; required?: string[] };
	};
}

/** What n8n sent to `POST /v1/chat/completions`. */
export interface ChatRequest {
	model: string;
	messages: ChatMessage[];
	tools?: ChatTool[];
	/** Never true from n8n's AI Agent here; the fake refuses it. */
	stream?: boolean;
}

/** The model's answer: final text, or one call of a tool the request offered. */
export type ScriptedAnswer =
	{ text: string } | { call: { name: string; arguments: Record<string, unknown> } };

export interface FakeOpenAi {
	/** The Base URL to put into n8n's OpenAI credential (ends in /v1). */
	baseUrl: string;
	/** Every chat request received, in order. */
	readonly requests: ChatRequest[];
	close(): Promise<void>;
}

/** The text of a message, whether sent as a string or as content parts. */
export function messageText(message: ChatMessage): string {
	if (typeof message.content === 'string') return message.content;
	return (message.content ?? []).map((part) => part.text ?? '').join('');
}

/** The completion OpenAI would return for `answer`, as one JSON body. */
function completion(request: ChatRequest, answer: ScriptedAnswer, sequence: number): object {
	const message =
		'text' in answer
			? { role: 'assistant', content: answer.text }
			: {
					role: 'assistant',
					content: null,
					tool_calls: [
						{
							id: `call_${sequence}`,
							type: 'function',
							function: {
								name: answer.call.name,
								arguments: JSON.stringify(answer.call.arguments),
							},
						},
					],
				};
	return {
		id: `chatcmpl-fake-${sequence}`,
		object: 'chat.completion',
		created: Math.floor(Date.now() / 1000),
		model: request.model,
		choices: [{ index: 0, message, finish_reason: 'text' in answer ? 'stop' : 'tool_calls' }],
		usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
	};
}

/** Answers with OpenAI's error shape, so n8n shows the reason. */
function fail(response: http.ServerResponse, status: number, message: string): void {
	response.writeHead(status, { 'content-type': 'application/json' });
	response.end(JSON.stringify({ error: { message, type: 'invalid_request_error' } }));
}

/**
 * Starts the endpoint on a free loopback port. `script` sees each request and returns the
 * answer; when it throws, the request fails with its message (n8n then shows it).
 */
export async function startFakeOpenAi(
	script: (request: ChatRequest) => ScriptedAnswer,
): Promise<FakeOpenAi> {
	const requests: ChatRequest[] = [];
	const server = http.createServer((request, response) => {
		const chunks: Buffer[] = [];
		request.on('data', (chunk: Buffer) => chunks.push(chunk));
		request.on('end', () => {
			if (request.method !== 'POST' || !request.url?.endsWith('/chat/completions')) {
				fail(response, 404, `this fake only answers POST /v1/chat/completions, not ${request.url}`);
				return;
			}
			let body: ChatRequest;
			let answer: ScriptedAnswer;
			try {
				body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ChatRequest;
				requests.push(body);
				// n8n's AI Agent asks for whole answers outside chat triggers; fail loudly if it ever streams.
				if (body.stream) throw new Error('this fake does not stream: send "stream": false');
				answer = script(body);
			} catch (error) {
				fail(response, 400, (error as Error).message);
				return;
			}
			response.writeHead(200, { 'content-type': 'application/json' });
			response.end(JSON.stringify(completion(body, answer, requests.length)));
		});
	});
	// Port 0 binds at once: nothing can take the port between choosing and listening.
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const { port } = server.address() as net.AddressInfo;
	return {
		baseUrl: `http://127.0.0.1:${port}/v1`,
		requests,
		async close() {
			server.closeAllConnections();
			await new Promise<void>((resolve) => server.close(() => resolve()));
		},
	};
}
