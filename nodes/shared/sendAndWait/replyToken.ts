/**
 * Reply by Email's link between a question and the execution that waits for it: the
 * question's Message-ID carries the execution, the node and the signature of its resume URL,
 * so a reply (whose In-Reply-To and References repeat that Message-ID) says which execution it
 * answers. The AgentMail Trigger reads it back and rebuilds the resume URL on this n8n's own
 * loopback address: nothing in the mail ever names a host.
 *
 * The signature is masked with a key derived from the inbox's API key: Message-IDs end up in
 * outputs (the question's `messageId`, a reply's `inReplyTo`) and those must not hold a
 * signature. Who holds the API key can read the question's links anyway.
 */
import { createHmac } from 'node:crypto';

/** A question's reply token: enough to reach its execution's waiting webhook. */
export interface ReplyToken {
	executionId: string;
	nodeId: string;
	/** The HMAC n8n signs the node's resume URL with (hex). */
	signature: string;
}

/** Marks a question's Message-ID; also the cheap test the trigger runs on every message. */
const TOKEN_PREFIX = 'n8nwait.';

/** n8n's execution ids are numbers; a little room for other id schemes, nothing else. */
const EXECUTION_ID = /^[0-9A-Za-z_-]{1,40}$/;
/** n8n signs with HMAC-SHA256 in hex. */
const SIGNATURE = /^[0-9a-f]{64}$/;
/** A node id is hex-encoded in the token (ids are free text in old workflows). */
const NODE_HEX = /^(?:[0-9a-f]{2}){1,100}$/;

const TOKEN_ID = /^<n8nwait\.([^.@<>]+)\.([^.@<>]+)\.([^.@<>]+)@[^<>@\s]+>$/i;

/** Keeps the mask's key apart from any other use of the API key. */
const MASK_CONTEXT = 'agentmail send-and-wait reply token';

/** XORs the signature with a keystream of the API key, the execution and the node (its own inverse). */
function mask(signature: string, token: Omit<ReplyToken, 'signature'>, apiKey: string): string {
	const key = createHmac('sha256', apiKey).update(MASK_CONTEXT).digest();
	const stream = createHmac('sha256', key).update(`${token.executionId}\n${token.nodeId}`).digest();
	const bytes = Buffer.from(signature, 'hex');
	for (let i = 0; i < bytes.length; i++) bytes[i] ^= stream[i];
	return bytes.toString('hex');
}

/** The question's Message-ID for `token`, in the inbox's domain, masked with `apiKey`. */
export function replyMessageId(token: ReplyToken, inbox: string, apiKey: string): string {
	if (!isValidToken(token)) throw new Error('the reply token is malformed');
	const domain = inbox.split('@')[1]?.toLowerCase() || 'localhost';
	const node = Buffer.from(token.nodeId, 'utf8').toString('hex');
	const masked = mask(token.signature, token, apiKey);
	return `<${TOKEN_PREFIX}${token.executionId}.${node}.${masked}@${domain}>`;
}

/**
 * The token a Message-ID carries, unmasked with `apiKey`, or null when it is not a question's.
 * Another key gives a wrong signature, which n8n refuses.
 */
export function parseReplyToken(messageId: string, apiKey: string): ReplyToken | null {
	const match = TOKEN_ID.exec(messageId.trim());
	if (!match) return null;
	const [, executionId, nodeHex, masked] = match;
	// Some servers change the case of Message-IDs; hex reads the same either way.
	if (!NODE_HEX.test(nodeHex.toLowerCase()) || !SIGNATURE.test(masked.toLowerCase())) return null;
	const place = { executionId, nodeId: Buffer.from(nodeHex.toLowerCase(), 'hex').toString('utf8') };
	const token = { ...place, signature: mask(masked.toLowerCase(), place, apiKey) };
	return isValidToken(token) ? token : null;
}

function isValidToken(token: ReplyToken): boolean {
	return (
		EXECUTION_ID.test(token.executionId) &&
		SIGNATURE.test(token.signature) &&
		token.nodeId.length > 0 &&
		token.nodeId.length <= 100
	);
}

/**
 * The first question token among a message's In-Reply-To and References (the direct parent
 * first, then the thread from newest to oldest).
 */
export function findReplyToken(
	inReplyTo: string | null,
	references: string[],
	apiKey: string,
): ReplyToken | null {
	for (const id of [...(inReplyTo ? [inReplyTo] : []), ...[...references].reverse()]) {
		const token = parseReplyToken(id, apiKey);
		if (token) return token;
	}
	return null;
}

/** Whether the header bytes may hold a token: a byte search, so most mail costs next to nothing. */
export function mayHoldToken(headerBytes: Buffer): boolean {
	return headerBytes.includes(TOKEN_PREFIX, 0, 'latin1');
}

/**
 * The query parameter that marks the resume URL of replies: signed apart from the links, so it
 * takes only the trigger's hand-over and never a page's answer.
 */
export const REPLY_QUERY = { name: 'reply', value: '1' } as const;

/** The signature of a signed resume URL (its `signature` query parameter). */
export function signatureOf(signedUrl: string): string {
	const signature = new URL(signedUrl).searchParams.get('signature') ?? '';
	if (!SIGNATURE.test(signature)) {
		throw new Error('n8n gave a resume URL without a signature, so a reply could not reach it');
	}
	return signature;
}

/** The environment this n8n's own HTTP server is configured from (n8n's variable names). */
export interface ServerEnv {
	N8N_PROTOCOL?: string;
	N8N_PORT?: string;
	N8N_LISTEN_ADDRESS?: string;
	N8N_ENDPOINT_WEBHOOK_WAIT?: string;
}

/** n8n's defaults for {@link ServerEnv}. */
const DEFAULT_PORT = '5678';
const DEFAULT_WAITING_ENDPOINT = 'webhook-waiting';

/**
 * The resume URL of `token` on this n8n's own HTTP server, reached over loopback: the host
 * never comes from mail (no request to a place a sender chose), and a reverse proxy or a
 * public address that this machine cannot reach itself does not matter.
 */
export function localResumeUrl(token: ReplyToken, env: ServerEnv): URL {
	const protocol = env.N8N_PROTOCOL === 'https' ? 'https' : 'http';
	const listen = env.N8N_LISTEN_ADDRESS?.trim() ?? '';
	// A wildcard or empty listen address serves loopback too.
	const host =
		!listen || listen === '0.0.0.0' || listen === '::'
			? '127.0.0.1'
			: listen.includes(':')
				? `[${listen}]`
				: listen;
	const port = /^\d{1,5}$/.test(env.N8N_PORT ?? '') ? env.N8N_PORT : DEFAULT_PORT;
	const endpoint = (env.N8N_ENDPOINT_WEBHOOK_WAIT || DEFAULT_WAITING_ENDPOINT).replace(
		/^\/+|\/+$/g,
		'',
	);
	const url = new URL(
		`${protocol}://${host}:${port}/${endpoint}/${encodeURIComponent(token.executionId)}/${encodeURIComponent(token.nodeId)}`,
	);
	// In the order n8n signed them: the signature covers the path and the query before it.
	url.searchParams.set(REPLY_QUERY.name, REPLY_QUERY.value);
	url.searchParams.set('signature', token.signature);
	return url;
}
