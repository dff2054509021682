import {
	NodeConnectionTypes,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeType,
	type INodeTypeDescription,
} from 'n8n-workflow';

import { agentMailInboxConnectionTest } from '../shared/methods/credentialTest';
import * as message from './actions/message/Message.resource';
import { router } from './actions/router';

/** Sends and replies over AgentMail's SMTP, checking AgentMail's limits before anything is sent. */
export class AgentMail implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'AgentMail',
		name: 'agentMail',
		icon: { light: 'file:../../icons/agentmail.svg', dark: 'file:../../icons/agentmail.dark.svg' },
		group: ['output'],
		version: 1,
		subtitle: '={{ $parameter["operation"] + ": " + $parameter["resource"] }}',
		description: 'Send and reply to email from an AgentMail inbox (SMTP)',
		defaults: { name: 'AgentMail' },
		usableAsTool: true,
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
				options: [{ name: 'Message', value: 'message' }],
				default: 'message',
			},
			...message.description,
			{
				displayName: 'Inbox Address',
				name: 'inbox',
				type: 'string',
				default: '',
				placeholder: 'support@agentmail.to',
				description:
					"The inbox to send from: another inbox the credential's API key may open, so one credential serves many inboxes. Empty: the credential's inbox. It is the login and the only allowed From.",
			},
		],
	};

	methods = { credentialTest: { agentMailInboxConnectionTest } };

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await router.call(this);
	}
}
