/**
 * The parameters of Message → Send and Wait for Response, in n8n's names for them (sendTo,
 * message, responseType, approvalOptions, formFields, options.limitWaitTime...), so that n8n's
 * Human review tool and workflows written for its own Send and Wait nodes read them unchanged.
 */
import type { INodeProperties } from 'n8n-workflow';

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

export const properties: INodeProperties[] = [
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
		displayName: 'Reply by Email',
		name: 'replyByEmail',
		type: 'boolean',
		default: false,
		description:
			'Whether the person may also answer by replying to the mail. Needs an active AgentMail Trigger on this inbox’s INBOX in this n8n; the reply is then the answer and starts no run of that trigger.',
		displayOptions: { show: { responseType: ['approval', 'freeText'] } },
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
				displayName: 'Approve Words',
				name: 'approveWords',
				type: 'string',
				default: '',
				placeholder: 'yes, approve, approved, ok, go ahead',
				description:
					'Reply by Email: words or phrases, separated by commas, that approve when a reply starts with one (case-insensitive). Empty: yes, approve, approved, ok, okay, go ahead, sure, confirmed, lgtm.',
				displayOptions: { show: { '/responseType': ['approval'], '/replyByEmail': [true] } },
			},
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
				displayName: 'Decline Words',
				name: 'declineWords',
				type: 'string',
				default: '',
				placeholder: "no, decline, reject, don't",
				description:
					"Reply by Email: words or phrases, separated by commas, that decline when a reply starts with one (case-insensitive). Empty: no, decline, declined, reject, rejected, don't, do not, stop, deny, denied.",
				displayOptions: { show: { '/responseType': ['approval'], '/replyByEmail': [true] } },
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
