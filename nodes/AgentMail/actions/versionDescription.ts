/**
 * The AgentMail node's description: its resources, their operations and the shared parameters.
 * The icon, subtitle and usableAsTool stay in the node class, where n8n's community lint reads them.
 */
import {
	NodeConnectionTypes,
	SEND_AND_WAIT_OPERATION,
	type INodeTypeDescription,
	type IWebhookDescription,
} from 'n8n-workflow';

import { inboxAddressProperty } from '../../shared/methods/properties';
import * as folder from './folder/Folder.resource';
import * as inbox from './inbox/Inbox.resource';
import * as message from './message/Message.resource';
import * as thread from './thread/Thread.resource';

/** The operations that send: their Inbox Address is the From. */
const SMTP_OPERATIONS = ['send', 'reply', 'forward', SEND_AND_WAIT_OPERATION];

/**
 * The waiting URL of Send and Wait, as n8n's own Send and Wait nodes declare it: GET opens the
 * answer page, POST records the answer. Having `webhooks` and a `sendAndWait` operation is also
 * what makes n8n offer this node as a Human review tool to AI Agents.
 */
const sendAndWaitWebhooks: IWebhookDescription[] = (['GET', 'POST'] as const).map((httpMethod) => ({
	name: 'default',
	httpMethod,
	responseMode: 'onReceived',
	responseData: '',
	path: '={{ $nodeId }}',
	restartWebhook: true,
	isFullPath: true,
}));

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
	webhooks: sendAndWaitWebhooks,
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
				{ name: 'Inbox', value: 'inbox' },
			],
			default: 'message',
		},
		...message.description,
		...thread.description,
		...folder.description,
		...inbox.description,
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
