/** Folder → Get Many: every folder of the inbox with its total, unread and next UID. */
import { updateDisplayOptions, type IExecuteFunctions, type INodeProperties } from 'n8n-workflow';

import type { InboxClient } from '../../../shared/imap/inbox';
import type { ImapResult } from '../../helpers/interfaces';

const properties: INodeProperties[] = [];

const displayOptions = { show: { resource: ['folder'], operation: ['getMany'] } };

export const description = updateDisplayOptions(displayOptions, properties);

export async function execute(
	this: IExecuteFunctions,
	_i: number,
	inbox: InboxClient,
): Promise<ImapResult> {
	const folders = await inbox.folderStatus();
	return folders.map((folder) => ({ json: { inbox: inbox.address, ...folder } }));
}
