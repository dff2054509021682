/** Message → Get: one message, by default the input item's, headers only or in full. */
import { updateDisplayOptions, type IExecuteFunctions, type INodeProperties } from 'n8n-workflow';

import type { InboxClient } from '../../../shared/imap/inbox';
import { locateMessage } from '../../../shared/imap/locate';
import type { ImapResult } from '../../helpers/interfaces';
import { outputProperties, targetProperties } from '../common.descriptions';
import { readMessages } from '../readMessages';
import { readTarget } from './readTarget';

const properties: INodeProperties[] = [...targetProperties, ...outputProperties];

const displayOptions = { show: { resource: ['message'], operation: ['get'] } };

export const description = updateDisplayOptions(displayOptions, properties);

export async function execute(
	this: IExecuteFunctions,
	i: number,
	inbox: InboxClient,
): Promise<ImapResult> {
	const { selected, uid } = await locateMessage(inbox, readTarget(this, i));
	return await readMessages(this, i, inbox, selected, [uid]);
}
