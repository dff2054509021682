/**
 * The trigger's side of Reply by Email: a new message whose In-Reply-To or References hold a
 * question's token is offered to the execution waiting for it, by POSTing only where it lies
 * (folder, UID, UIDVALIDITY) to that execution's resume URL on this n8n's own loopback address.
 * The waiting node reads the message itself and judges it; only its explicit "taken" keeps the
 * trigger from starting a run with it. Anything else (the wait is over, a sender who was not
 * asked, an error) leaves the message to the trigger's normal run.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

import type { PackageLogger } from '../async';
import { errorText } from '../errors';
import type { FetchedMessage } from '../fetchedMessage';
import { findHeaderEnd, firstField, messageIdList, parseHeaderBlock } from '../mime/headers';
import { findReplyToken, localResumeUrl, mayHoldToken, type ServerEnv } from './replyToken';

/** Where a reply lies: all the waiting node is told (it reads the message itself). */
export interface ReplyPointer {
	folder: string;
	uid: number;
	uidValidity: string;
}

/** The POST body's field that marks a reply hand-over (a person's form never has it). */
export const POINTER_FIELD = 'agentMailReply';

/** The response header by which the waiting node says what it did with the reply. */
export const VERDICT_HEADER = 'x-agentmail-reply';

/** The verdict that means "this reply resumed the execution: start no run with it". */
export const TAKEN = 'taken';

/**
 * How long a refused connection is tried again: n8n may activate triggers before its HTTP
 * server listens, and a reply caught up at start-up would otherwise miss its execution. Bounded,
 * so a server that never listens (a worker-only setup) delays the inbox by this once per reply.
 */
const NOT_LISTENING_RETRY_MS = 60_000;
/** Pause between those tries. */
const NOT_LISTENING_PAUSE_MS = 2_000;
/** A hand-over that gets no answer in this is left to the trigger's normal run. */
const HAND_OFF_TIMEOUT_MS = 60_000;

export type HandOffOutcome = 'taken' | 'emit';

export interface HandOffOptions {
	logger: PackageLogger;
	env: ServerEnv;
	/** The trigger's API key: it unmasks the signature (./replyToken). */
	apiKey: string;
	retryForMs?: number;
	pauseMs?: number;
	timeoutMs?: number;
}

/** The header block of a fetched message (its source's start, or the headers fetched alone). */
function headerBlock(message: FetchedMessage): Buffer {
	const bytes = message.source ?? message.headers;
	return bytes.subarray(0, findHeaderEnd(bytes).headerEnd);
}

/**
 * Offers `message` to the execution its headers name, if any: 'taken' when that execution
 * resumed with it, 'emit' otherwise (including every message that names none).
 */
export async function offerReply(
	message: FetchedMessage,
	options: HandOffOptions,
): Promise<HandOffOutcome> {
	const block = headerBlock(message);
	if (!mayHoldToken(block)) return 'emit';
	const fields = parseHeaderBlock(block);
	const token = findReplyToken(
		firstField(fields, 'in-reply-to')?.value ?? null,
		messageIdList(
			fields
				.filter((f) => f.name === 'references')
				.map((f) => f.value)
				.join(' '),
		),
		options.apiKey,
	);
	if (!token) return 'emit';
	const url = localResumeUrl(token, options.env);
	const pointer: ReplyPointer = {
		folder: message.folder,
		uid: message.uid,
		uidValidity: message.uidValidity,
	};
	// The URL holds the signature: logs name the execution only.
	const where = { executionId: token.executionId, uid: message.uid };
	const deadline = Date.now() + (options.retryForMs ?? NOT_LISTENING_RETRY_MS);
	for (;;) {
		const sent = await post(url, { [POINTER_FIELD]: pointer }, options.timeoutMs).then(
			(verdict) => ({ verdict }),
			(error: NodeJS.ErrnoException) => ({ error }),
		);
		if ('verdict' in sent) {
			if (sent.verdict === TAKEN) {
				options.logger.info(
					'AgentMail Trigger: a reply resumed the execution waiting for it',
					where,
				);
				return 'taken';
			}
			options.logger.debug('AgentMail Trigger: the waiting execution did not take the reply', {
				...where,
				verdict: sent.verdict,
			});
			return 'emit';
		}
		// n8n's HTTP server not listening yet (start-up): worth a few more tries.
		if (sent.error.code === 'ECONNREFUSED' && Date.now() < deadline) {
			await new Promise((resolve) =>
				setTimeout(resolve, options.pauseMs ?? NOT_LISTENING_PAUSE_MS),
			);
			continue;
		}
		options.logger.warn(
			'AgentMail Trigger: a reply to Send and Wait could not be handed to its execution; it starts a run of this trigger instead',
			{ ...where, error: errorText(sent.error) },
		);
		return 'emit';
	}
}

/** POSTs `body` as JSON; resolves with the verdict header ('' when there is none). */
function post(url: URL, body: object, timeoutMs = HAND_OFF_TIMEOUT_MS): Promise<string> {
	const payload = Buffer.from(JSON.stringify(body));
	const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
	return new Promise((resolve, reject) => {
		const req = send(
			url,
			{
				method: 'POST',
				headers: { 'content-type': 'application/json', 'content-length': payload.length },
				timeout: timeoutMs,
				// Loopback to this same n8n: its certificate is usually made out to the public name.
				...(url.protocol === 'https:' ? { rejectUnauthorized: false } : {}),
			},
			(res) => {
				res.resume();
				const verdict = res.headers[VERDICT_HEADER];
				res.on('end', () =>
					resolve(res.statusCode === 200 && typeof verdict === 'string' ? verdict : ''),
				);
				res.on('error', reject);
			},
		);
		req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)));
		req.on('error', reject);
		req.end(payload);
	});
}

/** The process-wide record of offers on globalThis, as ./replyWatchers.ts keeps its registry. */
const OFFERS = Symbol.for('n8n-nodes-agentmail-inbox.replyOffers');
/**
 * How long an offer's outcome is kept for the other triggers on the same inbox: they see the
 * same new message within seconds of each other (each in its own IDLE session), or at the same
 * catch-up after a restart.
 */
const OFFER_MEMORY_MS = 10 * 60_000;

type Offers = Map<string, { at: number; outcome: Promise<HandOffOutcome> }>;

function offers(): Offers {
	const holder = globalThis as unknown as Record<symbol, Offers | undefined>;
	holder[OFFERS] ??= new Map();
	return holder[OFFERS];
}

/**
 * {@link offerReply}, once per message among all the triggers of this process that watch the
 * same inbox (`inbox`: its IMAP host and address): two workflows with an AgentMail Trigger on
 * one inbox would otherwise both offer a reply, and the one whose offer comes second, finding
 * the execution already resumed, would start a run with the reply that answered it. The others
 * wait for the first offer's outcome and do as it says.
 */
export async function offerReplyOnce(
	message: FetchedMessage,
	inbox: string,
	options: HandOffOptions,
): Promise<HandOffOutcome> {
	// Most mail holds no token: nothing recorded for it.
	if (!mayHoldToken(headerBlock(message))) return 'emit';
	const record = offers();
	const now = Date.now();
	for (const [key, offer] of record) if (now - offer.at > OFFER_MEMORY_MS) record.delete(key);
	const key = [inbox.toLowerCase(), message.folder, message.uidValidity, message.uid].join('|');
	const earlier = record.get(key);
	if (earlier) return await earlier.outcome;
	const outcome = offerReply(message, options);
	record.set(key, { at: now, outcome });
	return await outcome;
}
