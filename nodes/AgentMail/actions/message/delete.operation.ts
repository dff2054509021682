/** Message → Delete: to Trash, or for good (that one UID only) when asked. */
import { updateDisplayOptions, type IExecuteFunctions, type INodeProperties } from 'n8n-workflow';

import { InputError } from '../../../shared/errors';
import { expungeMessage, moveMessage, trashFolder } from '../../../shared/imap/actions';
import type { InboxClient } from '../../../shared/imap/inbox';
import type { ImapResult } from '../../helpers/interfaces';
import { targetProperties } from '../common.descriptions';
import { changedItem, locateForChange } from './changeMessage';

const properties: INodeProperties[] = [
	...targetProperties,
	{
		displayName: 'Delete Permanently',
		name: 'permanent',
		type: 'boolean',
		default: false,
		description:
			'Whether to remove the message for good instead of moving it to Trash. Only this message is expunged (UID EXPUNGE); a server without UIDPLUS is refused, nothing deleted.',
	},
];

const displayOptions = { show: { resource: ['message'], operation: ['delete'] } };

export const description = updateDisplayOptions(displayOptions, properties);

export async function execute(
	this: IExecuteFunctions,
	i: number,
	inbox: InboxClient,
): Promise<ImapResult> {
	const permanent = this.getNodeParameter('permanent', i, false) === true;
	const located = await locateForChange(this, i, inbox);
	if (permanent) {
		await expungeMessage(inbox, located);
		return [
			{
				json: {
					deleted: true,
					permanent: true,
					uid: located.uid,
					uidValidity: located.selected.uidValidity,
					folder: located.selected.path,
					messageId: located.messageId,
				},
			},
		];
	}
	const trash = await trashFolder(inbox);
	if (trash === located.selected.path) {
		throw new InputError(
			`The message is in ${trash} already: nothing was done. Turn on Delete Permanently to remove it for good.`,
		);
	}
	const after = await moveMessage(inbox, located, trash);
	return changedItem(located, after, { deleted: true, permanent: false });
}
