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
	type INodeProperties,
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
import type { OperationContext, PreparedMessage } from '../../helpers/deliver';
import { toNodeError } from '../../helpers/errors';
import { withIdentity } from '../../helpers/sendOnce';
import { runSmtp } from '../../helpers/smtpRun';

const formFieldValues: INodeProperties[] = [
	{
		displayName: 'Field Label',
		name: 'fieldLabel',
		type: 'string',
		default: '',
		placeholder: 'e.g. What is your name?',
		description: 'The question; also the name of the answer in the output',
		required: true,
	},
	{
		displayName: 'Element Type',
		name: 'fieldType',
		type: 'options',
		default: 'text',
		options: [
			{ name: 'Checkboxes', value: 'checkbox' },
			{ name: 'Date', value: 'date' },
			{ name: 'Dropdown List', value: 'dropdown' },
			{ name: 'Email', value: 'email' },
			{ name: 'Number', value: 'number' },
			{ name: 'Password', value: 'password' },
			{ name: 'Radio Buttons', value: 'radio' },
			{ name: 'Text', value: 'text' },
			{ name: 'Textarea', value: 'textarea' },
		],
	},
	{
		displayName: 'Placeholder',
		name: 'placeholder',
		type: 'string',
		default: '',
		displayOptions: { show: { fieldType: ['text', 'textarea', 'email', 'number', 'password'] } },
	},
	{
		displayName: 'Options',
		name: 'fieldOptions',
		type: 'fixedCollection',
		placeholder: 'Add Option',
		default: { values: [{ option: '' }] },
		typeOptions: { multipleValues: true, sortable: true },
		displayOptions: { show: { fieldType: ['dropdown', 'checkbox', 'radio'] } },
		options: [
			{
				displayName: 'Values',
				name: 'values',
				values: [{ displayName: 'Option', name: 'option', type: 'string', default: '' }],
			},
		],
	},
	{
		displayName: 'Multiple Choice',
		name: 'multiselect',
		type: 'boolean',
		default: false,
		description: 'Whether the person may choose more than one option',
		displayOptions: { show: { fieldType: ['dropdown'] } },
	},
	{
		displayName: 'Required Field',
		name: 'requiredField',
		type: 'boolean',
		default: false,
		description: 'Whether the form can only be sent with this field answered',
	},
];

const properties: INodeProperties[] = [
	{
		displayName: 'To',
		name: 'sendTo',
		type: 'string',
		required: true,
		default: '',
		placeholder: 'jane@example.com',
		description:
			'Who is asked, separated by commas; at most 50. Everyone gets the same links: the first answer counts.',
	},
	{
		displayName: 'Subject',
		name: 'subject',
		type: 'string',
		required: true,
		default: '',
		placeholder: 'e.g. Approve refund for order 1042?',
	},
	{
		displayName: 'Message',
		name: 'message',
		type: 'string',
		required: true,
		default: '',
		typeOptions: { rows: 4 },
		description: 'The question, as plain text; the answer links follow it',
	},
	{
		displayName: 'Response Type',
		name: 'responseType',
		type: 'options',
		default: 'approval',
		options: [
			{
				name: 'Approval',
				value: 'approval',
				description: 'The person approves (or declines) through a link',
			},
			{
				name: 'Free Text',
				value: 'freeText',
				description: 'The person writes an answer on a page the link opens',
			},
			{
				name: 'Custom Form',
				value: 'customForm',
				description: 'The person fills in a form of your fields on a page the link opens',
			},
		],
	},
	{
		displayName: 'Define Form',
		name: 'defineForm',
		type: 'options',
		noDataExpression: true,
		default: 'fields',
		options: [
			{ name: 'Using Fields Below', value: 'fields' },
			{ name: 'Using JSON', value: 'json' },
		],
		displayOptions: { show: { responseType: ['customForm'] } },
	},
	{
		displayName: 'Form Fields',
		name: 'formFields',
		placeholder: 'Add Form Element',
		type: 'fixedCollection',
		default: {},
		typeOptions: { multipleValues: true, sortable: true },
		options: [{ displayName: 'Values', name: 'values', values: formFieldValues }],
		displayOptions: { show: { responseType: ['customForm'], defineForm: ['fields'] } },
	},
	{
		displayName: 'Form Fields (JSON)',
		name: 'jsonOutput',
		type: 'json',
		default:
			'[\n  {\n    "fieldLabel": "Name",\n    "requiredField": true\n  },\n  {\n    "fieldLabel": "Decision",\n    "fieldType": "dropdown",\n    "fieldOptions": { "values": [{ "option": "Yes" }, { "option": "No" }] }\n  }\n]',
		description:
			'The fields as n8n’s Form node writes them in JSON: fieldLabel, fieldType, placeholder, requiredField, multiselect, fieldOptions',
		displayOptions: { show: { responseType: ['customForm'], defineForm: ['json'] } },
	},
	{
		displayName: 'Approval Options',
		name: 'approvalOptions',
		type: 'fixedCollection',
		placeholder: 'Add option',
		default: {},
		options: [
			{
				displayName: 'Values',
				name: 'values',
				values: [
					{
						displayName: 'Type of Approval',
						name: 'approvalType',
						type: 'options',
						default: 'single',
						options: [
							{ name: 'Approve Only', value: 'single' },
							{ name: 'Approve and Disapprove', value: 'double' },
						],
					},
					{
						displayName: 'Approve Button Label',
						name: 'approveLabel',
						type: 'string',
						default: 'Approve',
					},
					{
						displayName: 'Disapprove Button Label',
						name: 'disapproveLabel',
						type: 'string',
						default: 'Decline',
						displayOptions: { show: { approvalType: ['double'] } },
					},
				],
			},
		],
		displayOptions: { show: { responseType: ['approval'] } },
	},
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		options: [
			{
				displayName: 'BCC',
				name: 'bcc',
				type: 'string',
				default: '',
				description: 'Blind-copy recipients; counted in the 50-recipient limit',
			},
			{
				displayName: 'CC',
				name: 'cc',
				type: 'string',
				default: '',
				description: 'Copy recipients; counted in the 50-recipient limit',
			},
			{
				displayName: 'In Reply To',
				name: 'inReplyTo',
				type: 'string',
				default: '',
				placeholder: '={{ $json.messageId }}',
				description:
					'Message-ID of a message the question answers: it then goes out in that thread (Re: subject, In-Reply-To and References)',
			},
			{
				displayName: 'Limit Wait Time',
				name: 'limitWaitTime',
				type: 'fixedCollection',
				default: {
					values: { limitType: 'afterTimeInterval', resumeAmount: 45, resumeUnit: 'minutes' },
				},
				description:
					'Go on without an answer after a time or at a date: the node then outputs its input item, with no data field',
				options: [
					{
						displayName: 'Values',
						name: 'values',
						values: [
							{
								displayName: 'Limit Type',
								name: 'limitType',
								type: 'options',
								default: 'afterTimeInterval',
								options: [
									{ name: 'After Time Interval', value: 'afterTimeInterval' },
									{ name: 'At Specified Time', value: 'atSpecifiedTime' },
								],
							},
							{
								displayName: 'Amount',
								name: 'resumeAmount',
								type: 'number',
								default: 1,
								typeOptions: { minValue: 0, numberPrecision: 2 },
								displayOptions: { show: { limitType: ['afterTimeInterval'] } },
							},
							{
								displayName: 'Unit',
								name: 'resumeUnit',
								type: 'options',
								default: 'hours',
								options: [
									{ name: 'Minutes', value: 'minutes' },
									{ name: 'Hours', value: 'hours' },
									{ name: 'Days', value: 'days' },
								],
								displayOptions: { show: { limitType: ['afterTimeInterval'] } },
							},
							{
								displayName: 'Max Date and Time',
								name: 'maxDateAndTime',
								type: 'dateTime',
								default: '',
								displayOptions: { show: { limitType: ['atSpecifiedTime'] } },
							},
						],
					},
				],
			},
			{
				displayName: 'Message Button Label',
				name: 'messageButtonLabel',
				type: 'string',
				default: 'Respond',
				description: 'Free Text and Custom Form: the link in the mail',
			},
			{
				displayName: 'Response Form Button Label',
				name: 'responseFormButtonLabel',
				type: 'string',
				default: 'Submit',
				description: 'Free Text and Custom Form: the button on the page',
			},
			{
				displayName: 'Response Form Title',
				name: 'responseFormTitle',
				type: 'string',
				default: '',
				description: 'The page’s title; the subject when empty',
			},
			{
				displayName: 'Sender Name',
				name: 'senderName',
				type: 'string',
				default: '',
				description: 'Display name shown with the inbox address',
			},
		],
	},
];

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
export function sendOnceKey(this: IExecuteFunctions): string {
	return `sendAndWait:${this.getExecutionId()}`;
}

export async function execute(
	this: IExecuteFunctions,
	i: number,
	context: OperationContext,
): Promise<PreparedMessage> {
	const config = readAnswerConfig(this);
	const options = this.getNodeParameter('options', i, {}) as SendAndWaitOptions;
	const body = questionBody(config.message, answerLinks(this, config));
	const inReplyTo = options.inReplyTo?.trim();
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
			context.sendOnce.identityOf(i),
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
	const [output] = await runSmtp.call(this, { execute, sendOnceKey, onlyFirstItem: true });
	const result = output[0];
	// continueOnFail: the question did not go out, so there is nothing to wait for.
	if (!result || (result.json.sent !== true && result.json.alreadySent !== true)) return [output];
	await this.putExecutionToWait(waitTill ?? WAIT_INDEFINITELY);
	return [output];
}
