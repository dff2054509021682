/**
 * Message → Send and Wait for Response: mails a question from the inbox, then the execution
 * waits until a person answers through the mail's link (approve or decline, free text, or a
 * form), or until the wait limit. The answer arrives at the node's webhook
 * (./sendAndWait.webhook.ts); n8n builds its Human review tool for AI Agents from this operation.
 */
import {
	SEND_AND_WAIT_OPERATION,
	tryToParseJsonToFormFields,
	updateDisplayOptions,
	WAIT_INDEFINITELY,
	type IDataObject,
	type IExecuteFunctions,
	type INodeExecutionData,
	type IWebhookFunctions,
} from 'n8n-workflow';

import { InputError } from '../../../shared/errors';
import { type AnswerConfig, type ResponseType } from '../../../shared/sendAndWait/answer';
import {
	checkFields,
	fieldsFromJson,
	type FormField,
	type FormFieldInput,
} from '../../../shared/sendAndWait/form';
import { questionBody, type AnswerLink } from '../../../shared/sendAndWait/question';
import { waitUntil, type WaitLimitInput } from '../../../shared/sendAndWait/waitLimit';
import { composeMessage } from '../../../shared/smtp/compose';
import type { OperationContext, PreparedMessage } from '../../helpers/interfaces';
import { toNodeError } from '../../helpers/errors';
import { withIdentity } from '../../helpers/sendOnce';
import { runSmtp } from '../../helpers/smtpRun';
import { properties } from './sendAndWait.properties';
import {
	checkQuestionCopy,
	checkReplyByEmail,
	replyByEmailOn,
	replyMessageIdOf,
	replyNote,
} from './sendAndWait.reply';

const displayOptions = { show: { resource: ['message'], operation: [SEND_AND_WAIT_OPERATION] } };

export const description = updateDisplayOptions(displayOptions, properties);

interface SendAndWaitOptions {
	bcc?: string;
	cc?: string;
	inReplyTo?: string;
	limitWaitTime?: { values?: WaitLimitInput };
	messageButtonLabel?: string;
	responseFormButtonLabel?: string;
	responseFormTitle?: string;
	senderName?: string;
}

/** Reads a parameter of the one question an execution asks (item 0, as n8n's nodes do). */
type Param = (name: string, fallback: unknown) => unknown;

function paramOf(ctx: IExecuteFunctions | IWebhookFunctions): Param {
	return 'getInputData' in ctx
		? (name, fallback) => (ctx as IExecuteFunctions).getNodeParameter(name, 0, fallback)
		: (name, fallback) => (ctx as IWebhookFunctions).getNodeParameter(name, fallback);
}

function formFields(param: Param): FormField[] {
	if (param('defineForm', 'fields') === 'json') {
		return fieldsFromJson(() => tryToParseJsonToFormFields(param('jsonOutput', '[]')));
	}
	return checkFields((param('formFields', {}) as { values?: FormFieldInput[] }).values);
}

/** What the answer page needs, read from the node's parameters (by the operation and the webhook). */
export function readAnswerConfig(ctx: IExecuteFunctions | IWebhookFunctions): AnswerConfig {
	const param = paramOf(ctx);
	const responseType = param('responseType', 'approval') as ResponseType;
	const approval = (param('approvalOptions', {}) as { values?: IDataObject }).values ?? {};
	const options = param('options', {}) as SendAndWaitOptions;
	const subject = String(param('subject', ''));
	return {
		responseType,
		message: String(param('message', '')),
		title: options.responseFormTitle?.trim() || subject.trim() || 'Your answer is needed',
		approveLabel: String(approval.approveLabel || 'Approve'),
		disapproveLabel: String(approval.disapproveLabel || 'Decline'),
		submitLabel: options.responseFormButtonLabel?.trim() || 'Submit',
		fields: responseType === 'customForm' ? formFields(param) : [],
	};
}

/** The links of the question: signed resume URLs that open the answer page. */
function answerLinks(ctx: IExecuteFunctions, config: AnswerConfig): AnswerLink[] {
	if (config.responseType !== 'approval') {
		const options = ctx.getNodeParameter('options', 0, {}) as SendAndWaitOptions;
		return [
			{
				label: options.messageButtonLabel?.trim() || 'Respond',
				url: ctx.getSignedResumeUrl(),
				primary: true,
			},
		];
	}
	const approval = ctx.getNodeParameter('approvalOptions.values', 0, {}) as IDataObject;
	const approve = {
		label: config.approveLabel,
		url: ctx.getSignedResumeUrl({ approved: 'true' }),
		primary: true,
	};
	if (approval.approvalType !== 'double') return [approve];
	return [
		approve,
		{
			label: config.disapproveLabel,
			url: ctx.getSignedResumeUrl({ approved: 'false' }),
			primary: false,
		},
	];
}

/** The question's send once key: one question per execution and node, whatever retries it. */
function sendOnceKey(this: IExecuteFunctions): string {
	return `sendAndWait:${this.getExecutionId()}`;
}

async function execute(
	this: IExecuteFunctions,
	i: number,
	context: OperationContext,
): Promise<PreparedMessage> {
	const config = readAnswerConfig(this);
	const options = this.getNodeParameter('options', i, {}) as SendAndWaitOptions;
	const body = questionBody(
		config.message,
		answerLinks(this, config),
		replyByEmailOn(this) ? replyNote(this, config.responseType) : '',
	);
	const inReplyTo = options.inReplyTo?.trim();
	const identity = context.sendOnce.identityOf(i);
	if (replyByEmailOn(this)) checkReplyByEmail(this, context.connection, identity?.messageId);
	const composed = await composeMessage(
		withIdentity(
			{
				inbox: context.connection.email,
				fromName: options.senderName,
				to: this.getNodeParameter('sendTo', i) as string,
				cc: options.cc,
				bcc: options.bcc,
				subject: this.getNodeParameter('subject', i, '') as string,
				text: body.text,
				html: body.html,
				...(inReplyTo ? { inReplyTo, references: [inReplyTo] } : {}),
			},
			identity,
		),
	);
	return { composed, validateOnly: false };
}

/**
 * In queue mode a worker sends the question and makes its links from WEBHOOK_URL; without it
 * they point at the worker's own localhost:5678, which nobody can open.
 */
export function checkPublicAddress(env: Record<string, string | undefined>): void {
	if (env.EXECUTIONS_MODE === 'queue' && !env.WEBHOOK_URL?.trim()) {
		throw new InputError(
			'n8n runs in queue mode without WEBHOOK_URL, so the answer links would point at this process (localhost:5678), which nobody can open. Set WEBHOOK_URL to n8n’s public address on the main and on every worker.',
		);
	}
}

/**
 * Checks everything that could make the question unanswerable before anything is sent, sends
 * it (item 0 only: one execution waits for one answer), then puts the execution to wait.
 */
export async function run(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	let waitTill: Date | null;
	try {
		// An expression that comes out empty gives undefined, not ''.
		if (!String(this.getNodeParameter('sendTo', 0, '') ?? '').trim()) {
			throw new InputError('To is empty: name who should answer.');
		}
		checkPublicAddress(process.env);
		readAnswerConfig(this);
		const options = this.getNodeParameter('options', 0, {}) as SendAndWaitOptions;
		waitTill = waitUntil(options.limitWaitTime?.values);
	} catch (error) {
		throw toNodeError(this, error, 0, 'Nothing was sent.');
	}
	const [output] = await runSmtp.call(this, {
		execute,
		sendOnceKey,
		messageIdOf: replyMessageIdOf,
		onlyFirstItem: true,
		// Its copy in Sent: Send Once's warnings where the server keeps none, and whether the
		// Message-ID that carries the reply token went out as written.
		readBackSent: true,
	});
	const result = output[0];
	// continueOnFail: the question did not go out, so there is nothing to wait for.
	if (!result || (result.json.sent !== true && result.json.alreadySent !== true)) return [output];
	if (replyByEmailOn(this)) checkQuestionCopy(this, result.json);
	await this.putExecutionToWait(waitTill ?? WAIT_INDEFINITELY);
	return [output];
}
