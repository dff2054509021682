import type {
	INodeType,
	INodeTypeDescription,
	ITriggerFunctions,
	ITriggerResponse,
} from 'n8n-workflow';

import { agentMailInboxConnectionTest } from '../shared/methods/credentialTest';
import { listFolders } from '../shared/methods/loadOptions';
import { triggerDescription } from './description';
import { readSettings } from './helpers/settings';
import { testEvent, watch } from './helpers/watch';

/** Starts a workflow with each new email of an AgentMail inbox, pushed by IMAP IDLE. */
export class AgentMailTrigger implements INodeType {
	description: INodeTypeDescription = {
		...triggerDescription,
		icon: { light: 'file:../../icons/agentmail.svg', dark: 'file:../../icons/agentmail.dark.svg' },
		subtitle: '={{ "Folder: " + $parameter["folder"] }}',
		credentials: [
			{ name: 'agentMailInboxApi', required: true, testedBy: 'agentMailInboxConnectionTest' },
		],
	};

	methods = {
		credentialTest: { agentMailInboxConnectionTest },
		loadOptions: { listFolders },
	};

	async trigger(this: ITriggerFunctions): Promise<ITriggerResponse> {
		const settings = await readSettings(this);
		if (this.getMode() === 'manual') return { manualTriggerFunction: testEvent(this, settings) };
		return await watch(this, settings);
	}
}
