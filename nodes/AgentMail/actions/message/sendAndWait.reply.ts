/**
 * Send and Wait's Reply by Email in the node: the question's Message-ID carries the reply
 * token (../../../shared/sendAndWait/replyToken.ts), the question is refused before sending
 * when no AgentMail Trigger here would pick up a reply, and the webhook takes the reply the
 * trigger points at when it answers this question (../../../shared/sendAndWait/replyAnswer.ts).
 */
import type {
	IBinaryKeyData,
	IDataObject,
	IExecuteFunctions,
	IWebhookFunctions,
	IWebhookResponseData,
} from 'n8n-workflow';

import type { AgentMailConnection } from '../../../shared/connection';
import { forInbox, parseConnection } from '../../../shared/connection';
import { errorText, InputError } from '../../../shared/errors';
import { toN8nBinary } from '../../../shared/mime/item';
import type { ResponseType } from '../../../shared/sendAndWait/answer';
import {
	DEFAULT_APPROVE_WORDS,
	DEFAULT_DECLINE_WORDS,
	parseWords,
} from '../../../shared/sendAndWait/decision';
import { judgeReply, readPointer, readReply } from '../../../shared/sendAndWait/replyAnswer';
import { POINTER_FIELD, TAKEN, VERDICT_HEADER } from '../../../shared/sendAndWait/replyHandOff';
import {
	localResumeUrl,
	parseReplyToken,
	REPLY_QUERY,
	replyMessageId,
	signatureOf,
} from '../../../shared/sendAndWait/replyToken';
import { hasReplyWatcher } from '../../../shared/sendAndWait/replyWatchers';
import { knownBehaviour, serverKey } from '../../../shared/smtp/sentCopy';

type Ctx = IExecuteFunctions | IWebhookFunctions;

function param(ctx: Ctx, name: string, fallback: unknown): unknown {
	return 'getInputData' in ctx
		? (ctx as IExecuteFunctions).getNodeParameter(name, 0, fallback)
		: (ctx as IWebhookFunctions).getNodeParameter(name, fallback);
}

/** Whether the question may be answered by a reply (Approval and Free Text only). */
export function replyByEmailOn(ctx: Ctx): boolean {
	const responseType = param(ctx, 'responseType', 'approval') as ResponseType;
	return responseType !== 'customForm' && param(ctx, 'replyByEmail', false) === true;
}

/** The signed resume URL replies are handed over to (not one of the links). */
function replyResumeUrl(ctx: IExecuteFunctions): string {
	return ctx.getSignedResumeUrl({ [REPLY_QUERY.name]: REPLY_QUERY.value });
}

/** The question's Message-ID carrying its reply token; undefined when Reply by Email is off. */
export function replyMessageIdOf(
	this: IExecuteFunctions,
	_i: number,
	connection: AgentMailConnection,
): string | undefined {
	if (!replyByEmailOn(this)) return undefined;
	try {
		const token = {
			executionId: this.getExecutionId(),
			nodeId: this.getNode().id,
			signature: signatureOf(replyResumeUrl(this)),
		};
		return replyMessageId(token, connection.email, connection.apiKey);
	} catch {
		// checkReplyByEmail() refuses the question with the reason before anything is sent.
		return undefined;
	}
}

/**
 * Refuses, before anything is sent, a question whose reply nobody would hand over: no active
 * AgentMail Trigger on the inbox's INBOX in this n8n, or a resume URL the trigger cannot rebuild.
 * In queue mode the trigger runs on the main process, which a worker cannot see: then only a
 * warning is logged, and the links still answer.
 */
export function checkReplyByEmail(
	ctx: IExecuteFunctions,
	connection: AgentMailConnection,
	messageId: string | undefined,
	env: Record<string, string | undefined> = process.env,
): void {
	const token = messageId ? parseReplyToken(messageId, connection.apiKey) : null;
	if (!token) {
		throw new InputError(
			'Reply by Email could not give the question its reply token (n8n gave no signed resume URL). Turn off Reply by Email, or run the workflow in a saved, active state.',
		);
	}
	const signedPath = new URL(replyResumeUrl(ctx)).pathname;
	if (signedPath !== localResumeUrl(token, env).pathname) {
		throw new InputError(
			`Reply by Email cannot work with this n8n's WEBHOOK_URL: its resume links have the path ${signedPath.split('/').slice(0, -2).join('/')}/…, but the AgentMail Trigger reaches n8n on its own port without that prefix. Turn off Reply by Email (the links still work), or serve n8n without a path prefix.`,
		);
	}
	// Replies name the question by the Message-ID it was written with: a server seen replacing
	// Message-IDs (an earlier send's copy in Sent) would leave every reply unmatched.
	if (
		knownBehaviour(serverKey(connection.email, connection.smtpHost, connection.smtpPort)) ===
		'rewrites'
	) {
		throw new InputError(
			`Reply by Email cannot work from ${connection.email}: its SMTP server ${connection.smtpHost} gave an earlier message a Message-ID of its own (seen in Sent), and replies are matched to the question by the Message-ID it was written with. Turn off Reply by Email (the links in the mail still answer). Nothing was sent.`,
		);
	}
	if (hasReplyWatcher(connection.imapHost, connection.email, connection.apiKey)) return;
	if (env.EXECUTIONS_MODE === 'queue') {
		ctx.logger.warn(
			`Send and Wait: Reply by Email cannot check from this worker whether an AgentMail Trigger watches ${connection.email} on the main process; without one, only the links answer.`,
		);
		return;
	}
	throw new InputError(
		`Reply by Email needs an active AgentMail Trigger on ${connection.email} watching INBOX in this n8n, with a credential of the same API key as this node's, and there is none. Activate (publish) a workflow whose AgentMail Trigger uses this inbox, folder INBOX and the same API key, or turn off Reply by Email. Nothing was sent.`,
	);
}

/**
 * After the question went out, what its copy in Sent showed (nodes/AgentMail/helpers/
 * sentReadBack.ts): a server that gave it a Message-ID of its own has dropped the reply token,
 * so a reply will start a normal trigger run instead of resuming; said in the item and the log.
 * Without a copy it cannot be told, and the item says so.
 */
export function checkQuestionCopy(ctx: IExecuteFunctions, json: IDataObject): void {
	if (typeof json.messageIdWritten !== 'string') return;
	if (json.messageId === null || json.messageId === undefined) {
		json.replyByEmailNote =
			'No copy of the question appeared in Sent, so whether the server kept its Message-ID (which a reply is matched by) cannot be told here. If replies start runs of the AgentMail Trigger instead of resuming this execution, turn off Reply by Email for this inbox; the links in the mail answer either way.';
		return;
	}
	const warning = `The SMTP server gave the question a Message-ID of its own (${String(json.messageId)}), and a reply is matched to the question by the Message-ID it was written with: a reply will start a run of the AgentMail Trigger instead of resuming this execution. The links in the mail still answer. Turn off Reply by Email for this inbox.`;
	json.replyByEmailWarning = warning;
	ctx.logger.warn(`Send and Wait: ${warning}`);
}

/** What the mail says about answering by reply, under the links. */
export function replyNote(ctx: IExecuteFunctions, responseType: ResponseType): string {
	if (responseType !== 'approval') return 'You can also answer by replying to this mail.';
	const options = ctx.getNodeParameter('options', 0, {}) as ReplyOptions;
	const yes = parseWords(options.approveWords, DEFAULT_APPROVE_WORDS)[0];
	const no = parseWords(options.declineWords, DEFAULT_DECLINE_WORDS)[0];
	return `You can also reply to this mail: start your reply with "${yes}" to approve or "${no}" to decline.`;
}

interface ReplyOptions {
	approveWords?: string;
	declineWords?: string;
}

/** The connection the node sends from: its credential, or its Inbox Address. */
async function connectionOf(ctx: IWebhookFunctions): Promise<AgentMailConnection> {
	const credential = parseConnection(await ctx.getCredentials('agentMailInboxApi'));
	return forInbox(credential, ctx.getNodeParameter('inbox', '') as string);
}

/** The execution id in the waiting URL: the path segment before the node's. */
function executionIdOf(ctx: IWebhookFunctions): string {
	const req = ctx.getRequestObject();
	const path = new URL(req.originalUrl ?? req.url, 'http://n8n.invalid').pathname.split('/');
	const node = path.lastIndexOf(encodeURIComponent(ctx.getNode().id));
	return node > 0 ? decodeURIComponent(path[node - 1]) : '';
}

/** Whether the request came to the replies' resume URL rather than to a link. */
export function toReplyUrl(ctx: IWebhookFunctions): boolean {
	return (ctx.getRequestObject().query as IDataObject)[REPLY_QUERY.name] === REPLY_QUERY.value;
}

/** The trigger's POST of a reply pointer, or undefined when the request is something else. */
export function pointerOf(ctx: IWebhookFunctions): unknown {
	const req = ctx.getRequestObject();
	if (req.method !== 'POST') return undefined;
	const body = ctx.getBodyData() as IDataObject | undefined;
	return body && typeof body === 'object' ? body[POINTER_FIELD] : undefined;
}

function verdict(ctx: IWebhookFunctions, value: string, reason: string): IWebhookResponseData {
	const res = ctx.getResponseObject();
	res.setHeader(VERDICT_HEADER, value);
	res.status(200).json({ reply: value, reason });
	return { noWebhookResponse: true };
}

/**
 * Judges the reply the trigger points at: resumes the execution with it when it answers this
 * question from a recipient; otherwise says why, and the trigger starts its normal run.
 */
export async function takeReply(
	ctx: IWebhookFunctions,
	raw: unknown,
): Promise<IWebhookResponseData> {
	if (!replyByEmailOn(ctx)) return verdict(ctx, 'off', 'Reply by Email is off for this question');
	const pointer = readPointer(raw);
	if (!pointer) return verdict(ctx, 'malformed', 'the hand-over names no message');
	const signature = String((ctx.getRequestObject().query as IDataObject).signature ?? '');
	try {
		const connection = await connectionOf(ctx);
		const messageId = replyMessageId(
			{ executionId: executionIdOf(ctx), nodeId: ctx.getNode().id, signature },
			connection.email,
			connection.apiKey,
		);
		const reply = await readReply(connection, pointer, { inbox: connection.email });
		if (!reply) return verdict(ctx, 'gone', 'the message is no longer where the trigger saw it');
		const options = ctx.getNodeParameter('options', {}) as ReplyOptions;
		const judged = judgeReply(reply.json, {
			messageId,
			recipients: [
				String(ctx.getNodeParameter('sendTo', '') ?? ''),
				String((options as IDataObject).cc ?? ''),
				String((options as IDataObject).bcc ?? ''),
			],
			responseType: ctx.getNodeParameter('responseType', 'approval') as ResponseType,
			approveWords: parseWords(options.approveWords, DEFAULT_APPROVE_WORDS),
			declineWords: parseWords(options.declineWords, DEFAULT_DECLINE_WORDS),
		});
		if (judged.kind === 'refused') return verdict(ctx, 'refused', judged.reason);
		const binary: IBinaryKeyData = {};
		for (const [property, file] of Object.entries(reply.binaries)) {
			binary[property] = await ctx.helpers.prepareBinaryData(
				toN8nBinary(file),
				file.fileName,
				file.mimeType,
			);
		}
		verdict(ctx, TAKEN, 'the reply answered the question');
		const json = { ...(reply.json as unknown as IDataObject), data: judged.data as IDataObject };
		return {
			noWebhookResponse: true,
			workflowData: [[{ json, ...(Object.keys(binary).length ? { binary } : {}) }]],
		};
	} catch (error) {
		ctx.logger.warn('Send and Wait: a reply could not be read; it starts a trigger run instead', {
			error: errorText(error),
		});
		return verdict(ctx, 'failed', 'the reply could not be read');
	}
}
