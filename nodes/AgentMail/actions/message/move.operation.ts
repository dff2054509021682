/** Message → Move: to INBOX, Trash, Spam or another folder of the inbox. */
import { updateDisplayOptions, type IExecuteFunctions, type INodeProperties } from 'n8n-workflow';

import { moveMessage } from '../../../shared/imap/actions';
import type { InboxClient } from '../../../shared/imap/inbox';
import type { ImapResult } from '../../helpers/interfaces';
import { targetProperties } from '../common.descriptions';
import { changedItem, locateForChange } from './changeMessage';

const properties: INodeProperties[] = [
	...targetProperties,
	{
		displayName: 'To Folder Name or ID',
		name: 'destination',
		type: 'options',
		typeOptions: { loadOptionsMethod: 'listFolders' },
		default: 'INBOX',
		description:
			'Folder to move the message to, e.g. INBOX, Trash or Spam. Names other than INBOX are case-sensitive. Choose from the list, or specify an ID using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
	},
];

const displayOptions = { show: { resource: ['message'], operation: ['move'] } };

export const description = updateDisplayOptions(displayOptions, properties);

export async function execute(
	this: IExecuteFunctions,
	i: number,
	inbox: InboxClient,
): Promise<ImapResult> {
	const destination = this.getNodeParameter('destination', i) as string;
	const located = await locateForChange(this, i, inbox);
	return changedItem(located, await moveMessage(inbox, located, destination));
}
