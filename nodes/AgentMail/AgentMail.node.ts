import type {
	IExecuteFunctions,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
} from 'n8n-workflow';

import { sendAndWaitWebhook } from './actions/message/sendAndWait.webhook';
import { router } from './actions/router';
import { versionDescription } from './actions/versionDescription';
import { credentialTest, loadOptions } from './methods';

/** An AgentMail inbox in a workflow: send and reply over SMTP, read and file mail over IMAP. */
export class AgentMail implements INodeType {
	description: INodeTypeDescription = {
		...versionDescription,
		icon: { light: 'file:../../icons/agentmail.svg', dark: 'file:../../icons/agentmail.dark.svg' },
		subtitle: '={{ $parameter["operation"] + ": " + $parameter["resource"] }}',
		usableAsTool: true,
	};

	methods = { credentialTest, loadOptions };

	webhook = sendAndWaitWebhook;

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await router.call(this);
	}
}
