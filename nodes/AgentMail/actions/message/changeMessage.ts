/**
 * What the operations that change one message run: finding the message in a folder opened for
 * writing, the output item that says where it is now, and the change of one flag.
 */
import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';

import { changeFlags, type FlagChange, type MessageAfter } from '../../../shared/imap/actions';
import type { InboxClient } from '../../../shared/imap/inbox';
import { locateMessage, type LocatedMessage } from '../../../shared/imap/locate';
import type { ImapOperation, ImapResult } from '../../helpers/interfaces';
import { readTarget } from './readTarget';

/** The item's message, found in a folder opened for writing. */
export async function locateForChange(
	ctx: IExecuteFunctions,
	i: number,
	inbox: InboxClient,
): Promise<LocatedMessage> {
	return await locateMessage(inbox, readTarget(ctx, i), true);
}

/** The output item: the message as it is now, and where it was before when that differs. */
export function changedItem(
	located: LocatedMessage,
	after: MessageAfter,
	extra: IDataObject = {},
): ImapResult {
	const moved =
		after.folder !== located.selected.path
			? {
					previous: {
						uid: located.uid,
						uidValidity: located.selected.uidValidity,
						folder: located.selected.path,
					},
				}
			: {};
	return [{ json: { ...after, ...extra, ...moved } }];
}

/** The execute of Mark as Read / Unread, Flag, Unflag: one flag set or cleared. */
export function changeFlag(change: FlagChange): ImapOperation['execute'] {
	return async function (this: IExecuteFunctions, i: number, inbox: InboxClient) {
		const located = await locateForChange(this, i, inbox);
		return changedItem(located, await changeFlags(inbox, located, change));
	};
}
