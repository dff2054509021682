/**
 * The parameters several operations share, spread into their own `properties` and shown with
 * the operation's displayOptions: which folder and which message, how a message is output, and
 * the body and Options of the operations that send.
 */
import type { INodeProperties } from 'n8n-workflow';

import { DEFAULT_BINARY_PREFIX } from '../../shared/mime/limits';

/** The Folder parameter: the inbox's folders, as the trigger lists them. */
export function folderProperty(description: string): INodeProperties {
	return {
		displayName: 'Folder Name or ID',
		name: 'folder',
		type: 'options',
		typeOptions: { loadOptionsMethod: 'listFolders' },
		default: 'INBOX',
		description: `${description} Names other than INBOX are case-sensitive. Choose from the list, or specify an ID using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.`,
	};
}

const showUid = { show: { messageFrom: ['uid'] } };

/**
 * Which message Get, Forward and the operations that change a message act on: by default the
 * input item's (from the AgentMail Trigger or Get Many), like Reply's Input Item mode; or a UID
 * in a folder; or a Message-ID.
 */
export const targetProperties: INodeProperties[] = [
	{
		displayName: 'Message',
		name: 'messageFrom',
		type: 'options',
		options: [
			{
				name: 'Input Item (From AgentMail Trigger or Get Many)',
				value: 'inputItem',
				description: 'Reads uid, uidValidity, folder and messageId from the input item',
			},
			{ name: 'By UID', value: 'uid', description: 'A UID in a folder' },
			{ name: 'By Message-ID', value: 'messageId', description: 'The Message-ID header' },
		],
		default: 'inputItem',
		description: 'Which message to act on',
	},
	{
		...folderProperty('Folder the message is in.'),
		displayOptions: { show: { messageFrom: ['uid', 'messageId'] } },
	},
	{
		displayName: 'UID',
		name: 'uid',
		type: 'number',
		typeOptions: { minValue: 1 },
		required: true,
		default: 0,
		description: 'The "uid" of the message, as the trigger or Get Many gave it',
		displayOptions: showUid,
	},
	{
		displayName: 'UID Validity',
		name: 'uidValidity',
		type: 'string',
		default: '',
		description:
			'The "uidValidity" given with the UID, if known. When the folder has another one now (it was renumbered), the UID is not used; the Message-ID is.',
		displayOptions: showUid,
	},
	{
		displayName: 'Message-ID',
		name: 'messageId',
		type: 'string',
		default: '',
		placeholder: '<abc@agentmail.to>',
		description:
			'The Message-ID header of the message. With a UID: checked against the message, and used to find it if the UID no longer fits.',
		displayOptions: { show: { messageFrom: ['uid', 'messageId'] } },
	},
];

/** The Output format of Get, Get Many and Thread → Get, and the options of the full format. */
export const outputProperties: INodeProperties[] = [
	{
		displayName: 'Output',
		name: 'format',
		type: 'options',
		options: [
			{
				name: 'Full',
				value: 'full',
				description:
					'The parsed message as the AgentMail Trigger emits it: text, html, replyText, attachments, headers',
			},
			{
				name: 'Headers Only',
				value: 'headers',
				description:
					'Fast: from, to, cc, subject, date, Message-ID, the headers and flags; no body',
			},
		],
		default: 'full',
		description: 'How much of each message to return',
	},
	{
		displayName: 'Options',
		name: 'readOptions',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		displayOptions: { show: { format: ['full'] } },
		options: [
			{
				displayName: 'Download Attachments',
				name: 'downloadAttachments',
				type: 'boolean',
				default: false,
				description:
					'Whether to return attachments as binary data (properties attachment_0, attachment_1, ...). They are always listed in "attachments".',
			},
			{
				displayName: 'Attachment Prefix',
				name: 'binaryPrefix',
				type: 'string',
				default: DEFAULT_BINARY_PREFIX,
				description: 'Prefix of the binary properties attachments are put in',
			},
			{
				displayName: 'Include Raw Message',
				name: 'includeRaw',
				type: 'boolean',
				default: false,
				description: 'Whether to also return the whole message as binary data "raw" (message.eml)',
			},
			{
				displayName: 'Max Message Size (MB)',
				name: 'maxMessageMb',
				type: 'number',
				typeOptions: { minValue: 1 },
				// DEFAULT_MAX_MESSAGE_BYTES in MB (n8n's lint wants a literal here).
				default: 40,
				description: 'Larger messages are returned with their headers only, and a warning',
			},
		],
	},
];

/** The body parameters of Send, Reply and Forward. */
export const bodyProperties: INodeProperties[] = [
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

/** The Options collection of Send, Reply and Forward; `extra` adds operation-specific entries. */
export function sendOptionsProperty(extra: INodeProperties[] = []): INodeProperties {
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
