/**
 * The AgentMail Trigger's description: its parameters and defaults. The icon, the subtitle and
 * the credential (with its testedBy) stay in the node class, where n8n's community lint reads
 * them: its credential-test-required rule looks for a testedBy in a node class's own description.
 */
import { NodeConnectionTypes, type INodeTypeDescription } from 'n8n-workflow';

import { inboxAddressProperty } from '../shared/methods/properties';

type Description = Omit<INodeTypeDescription, 'icon' | 'subtitle' | 'credentials'>;

export const triggerDescription: Description = {
	displayName: 'AgentMail Trigger',
	name: 'agentMailTrigger',
	group: ['trigger'],
	version: 1,
	description: 'Starts the workflow when an email arrives in an AgentMail inbox (IMAP IDLE)',
	eventTriggerDescription: 'Waiting for an email to arrive',
	hints: [
		{
			message:
				'"After the Run" acts only once the run a message started has finished successfully; a failed run leaves the message unread.',
			type: 'info',
			location: 'outputPane',
			whenToDisplay: 'always',
		},
	],
	defaults: { name: 'AgentMail Trigger' },
	inputs: [],
	outputs: [NodeConnectionTypes.Main],
	properties: [
		inboxAddressProperty(
			"Another inbox the credential's API key may open, so one credential serves many inboxes. Empty: the credential's inbox. The trigger keeps its place in each inbox and folder separately.",
		),
		{
			displayName: 'Folder Name or ID',
			name: 'folder',
			type: 'options',
			typeOptions: { loadOptionsMethod: 'listFolders' },
			default: 'INBOX',
			description:
				'Folder to watch. Choose from the list, or specify an ID using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
		},
		{
			displayName: 'Start From',
			name: 'startFrom',
			type: 'options',
			options: [
				{
					name: 'New Mail Only',
					value: 'new',
					description: 'Mail arriving after the first activation',
				},
				{
					name: 'New Mail and Unread Mail Already There',
					value: 'unread',
					description: 'Also the unread mail in the folder at the first activation',
				},
				{
					name: 'Everything in the Folder',
					value: 'all',
					description: 'Also every message in the folder at the first activation',
				},
			],
			default: 'new',
			description:
				'What the first activation takes. After that, every message that arrives starts one run, also mail that arrived while the workflow was off.',
		},
		{
			displayName: 'After the Run',
			name: 'afterRun',
			type: 'options',
			options: [
				{ name: 'Mark as Read', value: 'markRead' },
				{ name: 'Do Nothing', value: 'nothing' },
				{ name: 'Move to Folder', value: 'move' },
			],
			default: 'markRead',
			description: 'Done only when the run the message started succeeded',
		},
		{
			displayName: 'Move To Name or ID',
			name: 'moveTo',
			type: 'options',
			typeOptions: { loadOptionsMethod: 'listFolders' },
			default: 'Trash',
			description:
				'Folder to move handled messages to. Choose from the list, or specify an ID using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
			displayOptions: { show: { afterRun: ['move'] } },
		},
		{
			displayName: 'Runs',
			name: 'runMode',
			type: 'options',
			options: [
				{ name: 'One Run per Message', value: 'perMessage' },
				{ name: 'Up to N Messages per Run', value: 'batch' },
			],
			default: 'perMessage',
		},
		{
			displayName: 'Messages per Run',
			name: 'batchSize',
			type: 'number',
			typeOptions: { minValue: 1, maxValue: 500 },
			default: 20,
			displayOptions: { show: { runMode: ['batch'] } },
		},
		{
			displayName: 'Filters',
			name: 'filters',
			type: 'collection',
			placeholder: 'Add Filter',
			default: {},
			options: [
				{
					displayName: 'Ignore Automatic Mail',
					name: 'ignoreAutomatic',
					type: 'boolean',
					default: true,
					description:
						'Whether to skip mail from this inbox itself, auto-replies (Auto-Submitted), bulk or list mail (Precedence) and bounces, so an auto-reply workflow cannot loop',
				},
				{
					displayName: 'Senders',
					name: 'senders',
					type: 'string',
					default: '',
					placeholder: 'jane@example.com, @example.org',
					description: 'Only mail from these addresses or @domains, separated by commas',
				},
				{
					displayName: 'Subject Contains',
					name: 'subjectContains',
					type: 'string',
					default: '',
				},
				{
					displayName: 'Unread Only',
					name: 'unreadOnly',
					type: 'boolean',
					default: false,
					description: 'Whether to skip messages that are already read when they are found',
				},
			],
		},
		{
			displayName: 'Options',
			name: 'options',
			type: 'collection',
			placeholder: 'Add Option',
			default: {},
			options: [
				{
					displayName: 'Attachment Property Prefix',
					name: 'binaryPrefix',
					type: 'string',
					default: 'attachment_',
				},
				{
					displayName: 'Connection Check (Seconds)',
					name: 'livenessSeconds',
					type: 'number',
					typeOptions: { minValue: 10, maxValue: 600 },
					default: 60,
					description: 'A connection that stops answering is found and replaced within this time',
				},
				{
					displayName: 'Download Attachments',
					name: 'attachments',
					type: 'boolean',
					default: true,
					description: 'Whether to output attachments as binary data',
				},
				{
					displayName: 'Include Inline Images',
					name: 'includeInline',
					type: 'boolean',
					default: false,
					description: 'Whether to also output parts embedded in the HTML (cid: images)',
				},
				{
					displayName: 'Include Raw Message',
					name: 'includeRaw',
					type: 'boolean',
					default: false,
					description:
						'Whether to also output the whole message as a binary .eml file (property "raw")',
				},
				{
					displayName: 'Max Attachment Size (MB)',
					name: 'maxAttachmentMb',
					type: 'number',
					default: 25,
					description: 'Larger attachments are listed but not downloaded (a warning says so)',
				},
				{
					displayName: 'Max Message Size (MB)',
					name: 'maxMessageMb',
					type: 'number',
					default: 40,
					description: 'Larger messages start a run with their headers only, and a warning',
				},
				{
					displayName: 'Poll Interval (Seconds)',
					name: 'pollSeconds',
					type: 'number',
					typeOptions: { minValue: 5, maxValue: 3600 },
					default: 30,
					description:
						'Only for a server without IDLE, which cannot tell the trigger that mail arrived: how often the trigger then asks it for new mail. Not used on servers with IDLE (AgentMail announces it), where new mail starts a run at once.',
				},
				{
					displayName: 'Report Outage After (Minutes)',
					name: 'outageMinutes',
					type: 'number',
					typeOptions: { minValue: 0, numberPrecision: 2 },
					// Restarts, network blips and AgentMail deploys heal within a minute; 5 still
					// reports a real outage long before a correspondent would miss a reply.
					default: 5,
					description:
						'When the trigger cannot reach the IMAP server for this long, it records one failed execution (which starts the error workflow) and keeps retrying; nothing is lost meanwhile. 0: never report.',
				},
			],
		},
	],
};
