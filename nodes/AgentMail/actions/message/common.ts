/**
 * Parameters that Send and Reply share (body, attachments, options), and reading them from an
 * item into an OutgoingMessage.
 */
import type { IDataObject, IExecuteFunctions, INodeProperties } from 'n8n-workflow';

import type { OutgoingMessage } from '../../../shared/smtp/compose';
import { readAttachments } from '../../helpers/attachments';

/** Body parameters; the operation shows them with its own displayOptions. */
export function bodyProperties(): INodeProperties[] {
	return [
		{
			displayName: 'Email Format',
			name: 'emailFormat',
			type: 'options',
			options: [
				{ name: 'Text', value: 'text', description: 'Plain text only' },
				{ name: 'HTML', value: 'html', description: 'HTML only' },
				{ name: 'Both', value: 'both', description: 'HTML with a plain-text alternative' },
			],
			default: 'text',
		},
		{
			displayName: 'Text',
			name: 'text',
			type: 'string',
			typeOptions: { rows: 5 },
			default: '',
			description: 'Plain-text body',
			displayOptions: { show: { emailFormat: ['text', 'both'] } },
		},
		{
			displayName: 'HTML',
			name: 'html',
			type: 'string',
			typeOptions: { rows: 5 },
			default: '',
			description: 'HTML body',
			displayOptions: { show: { emailFormat: ['html', 'both'] } },
		},
	];
}

/** The Options collection; `extra` adds operation-specific entries. */
export function optionsProperty(extra: INodeProperties[] = []): INodeProperties {
	return {
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		options: [
			{
				displayName: 'Attach All Binary Data',
				name: 'attachAllBinary',
				type: 'boolean',
				default: false,
				description: 'Whether to attach every binary property of the input item',
			},
			{
				displayName: 'Attachments',
				name: 'attachments',
				type: 'string',
				default: '',
				placeholder: 'data, attachment_0',
				description:
					'Names of the binary properties to attach, separated by commas. Files are never read from disk or fetched from URLs.',
			},
			{
				displayName: 'BCC',
				name: 'bcc',
				type: 'string',
				default: '',
				placeholder: 'audit@example.com',
				description:
					'Blind-copy recipients, separated by commas. Counted in the 50-recipient limit.',
			},
			{
				displayName: 'CC',
				name: 'cc',
				type: 'string',
				default: '',
				placeholder: 'team@example.com',
				description: 'Copy recipients, separated by commas. Counted in the 50-recipient limit.',
			},
			{
				displayName: 'Custom Headers',
				name: 'customHeaders',
				type: 'fixedCollection',
				typeOptions: { multipleValues: true },
				default: {},
				placeholder: 'Add Header',
				options: [
					{
						displayName: 'Header',
						name: 'header',
						values: [
							{
								displayName: 'Name',
								name: 'name',
								type: 'string',
								default: '',
								placeholder: 'X-Ticket-ID',
							},
							{ displayName: 'Value', name: 'value', type: 'string', default: '' },
						],
					},
				],
			},
			{
				displayName: 'Reply-To',
				name: 'replyTo',
				type: 'string',
				default: '',
				placeholder: 'support@example.com',
				description: 'Where answers to this message should go, if not to the inbox',
			},
			{
				displayName: 'Sender Name',
				name: 'senderName',
				type: 'string',
				default: '',
				placeholder: 'Support Agent',
				description:
					'Display name shown with the inbox address. The address itself is always the inbox’s: AgentMail sends from nothing else.',
			},
			{
				displayName: 'Validate Only',
				name: 'validateOnly',
				type: 'boolean',
				default: false,
				description:
					'Whether to build the message and run every check, returning its size and envelope, without sending it',
			},
			...extra,
		],
	};
}

/** The Send Once Key option of Send and Forward; `description` says what an empty key does. */
export function sendOnceKeyOption(placeholder: string, description: string): INodeProperties {
	return {
		displayName: 'Send Once Key',
		name: 'sendOnceKey',
		type: 'string',
		default: '',
		placeholder,
		description,
	};
}

/** The options collection as read from one item. */
export interface MessageOptions {
	attachAllBinary?: boolean;
	attachments?: string;
	bcc?: string;
	cc?: string;
	customHeaders?: { header?: Array<{ name?: string; value?: string }> };
	replyTo?: string;
	senderName?: string;
	validateOnly?: boolean;
	replyAll?: boolean;
	quoteOriginal?: boolean;
	/** Reply: skip what this node already answered (default on). */
	sendOnce?: boolean;
	/** Send: the key that makes a message go out once. */
	sendOnceKey?: string;
}

/** Reads body, attachments and common options of item `i` into the parts of a message. */
export async function readCommon(
	ctx: IExecuteFunctions,
	i: number,
	inbox: string,
): Promise<{ message: OutgoingMessage; options: MessageOptions }> {
	const options = ctx.getNodeParameter('options', i, {}) as MessageOptions & IDataObject;
	const format = ctx.getNodeParameter('emailFormat', i, 'text') as string;
	const text = format === 'html' ? undefined : (ctx.getNodeParameter('text', i, '') as string);
	const html = format === 'text' ? undefined : (ctx.getNodeParameter('html', i, '') as string);
	const headers: Record<string, string> = {};
	for (const { name, value } of options.customHeaders?.header ?? []) {
		if (name) headers[name] = value ?? '';
	}
	return {
		options,
		message: {
			inbox,
			fromName: options.senderName,
			cc: options.cc,
			bcc: options.bcc,
			replyTo: options.replyTo,
			text,
			html,
			headers,
			attachments: await readAttachments(
				ctx,
				i,
				options.attachments,
				options.attachAllBinary === true,
			),
		},
	};
}
