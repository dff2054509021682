/**
 * The webhook behind Send and Wait's links (GET and POST on the node's waiting URL, which n8n
 * serves only while the execution waits and only with a valid signature), and behind Reply by
 * Email, whose replies the AgentMail Trigger hands over here (./sendAndWait.reply.ts). What each request
 * does is decided in ../../../shared/sendAndWait/answer.ts; here it is read from and written to n8n.
 */
import type { IDataObject, IWebhookFunctions, IWebhookResponseData } from 'n8n-workflow';

import { answer } from '../../../shared/sendAndWait/answer';
import { readAnswerConfig } from './sendAndWait.operation';
import { pointerOf, takeReply, toReplyUrl } from './sendAndWait.reply';

/** The submitted fields: n8n hands a multipart form over under `data`, a urlencoded one as is. */
function formBody(ctx: IWebhookFunctions): Record<string, unknown> {
	const body = (ctx.getBodyData() ?? {}) as IDataObject;
	const data = body.data;
	return data && typeof data === 'object' && !Array.isArray(data) ? (data as IDataObject) : body;
}

export async function sendAndWaitWebhook(this: IWebhookFunctions): Promise<IWebhookResponseData> {
	const req = this.getRequestObject();
	const res = this.getResponseObject();
	// The replies' URL: only the AgentMail Trigger's hand-over (no person, so no bot filter);
	// anything else there is no answer, so a page could never approve through it.
	if (toReplyUrl(this)) {
		const pointer = pointerOf(this);
		if (pointer !== undefined) return await takeReply(this, pointer);
		res.status(204).end();
		return { noWebhookResponse: true };
	}
	const outcome = answer(readAnswerConfig(this), {
		method: req.method,
		approved: String((req.query as IDataObject).approved ?? 'true') !== 'false',
		userAgent: req.headers['user-agent'],
		body: req.method === 'POST' ? formBody(this) : {},
	});
	if (outcome.kind === 'ignored') {
		res.status(204).end();
		return { noWebhookResponse: true };
	}
	// The page must not be cached by a proxy: a stale copy could post an answer twice.
	res.setHeader('Cache-Control', 'no-store');
	res.setHeader('Content-Type', 'text/html; charset=utf-8');
	if (outcome.kind === 'page') {
		res.status(outcome.status).send(outcome.html);
		return { noWebhookResponse: true };
	}
	res.status(200).send(outcome.html);
	return {
		noWebhookResponse: true,
		workflowData: [[{ json: { data: outcome.data } }]],
	};
}
