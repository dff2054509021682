/**
 * The AgentMail node's description: its resources, their operations and the shared parameters.
 * The icon, subtitle and usableAsTool stay in the node class, where n8n's community lint reads them.
 */
import { NodeConnectionTypes, type INodeTypeDescription } from 'n8n-workflow';

import { inboxAddressProperty } from '../../shared/methods/properties';
import * as folder from './folder/Folder.resource';
import * as message from './message/Message.resource';
import * as thread from './thread/Thread.resource';

/** The operations that send: their Inbox Address is the From. */
const SMTP_OPERATIONS = ['send', 'reply', 'forward'];

type Description = Omit<INodeTypeDescription, 'icon' | 'subtitle' | 'usableAsTool'>;

export const versionDescription: Description = {
	displayName: 'AgentMail',
	name: 'agentMail',
	group: ['output'],
	version: 1,
	description:
		'Send and reply to email, search, read and file it, in an AgentMail inbox (SMTP and IMAP)',
	defaults: { name: 'AgentMail' },
	inputs: [NodeConnectionTypes.Main],
	outputs: [NodeConnectionTypes.Main],
	credentials: [
		{ name: 'agentMailInboxApi', required: true, testedBy: 'agentMailInboxConnectionTest' },
	],
	properties: [
		{
			displayName: 'Resource',
			name: 'resource',
			type: 'options',
			noDataExpression: true,
			options: [
				{ name: 'Message', value: 'message' },
				{ name: 'Thread', value: 'thread' },
				{ name: 'Folder', value: 'folder' },
			],
			default: 'message',
		},
		...message.description,
		...thread.description,
		...folder.description,
		{
			...inboxAddressProperty(
				"The inbox to send from: another inbox the credential's API key may open, so one credential serves many inboxes. Empty: the credential's inbox. It is the login and the only allowed From.",
			),
			displayOptions: { show: { resource: ['message'], operation: SMTP_OPERATIONS } },
		},
		{
			...inboxAddressProperty(
				"The inbox to read and file mail in: another inbox the credential's API key may open, so one credential serves many inboxes. Empty: the credential's inbox.",
			),
			displayOptions: { hide: { operation: SMTP_OPERATIONS } },
		},
	],
};
