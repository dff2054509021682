/**
 * What the operations that change one message share: the message they act on (targetProperties)
 * and their output item, which says where the message is now.
 */
import {
	updateDisplayOptions,
	type IDataObject,
	type IExecuteFunctions,
	type INodeProperties,
} from 'n8n-workflow';

import { changeFlags, type FlagChange, type MessageAfter } from '../../../shared/imap/actions';
import type { InboxClient } from '../../../shared/imap/inbox';
import { locateMessage, type LocatedMessage } from '../../../shared/imap/locate';
import type { ImapResult } from '../../helpers/interfaces';
import { targetProperties } from '../common.descriptions';
import { readTarget } from './readTarget';

/** An operation of the Message resource that changes the message it is given. */
export interface ChangeOperation {
	description: INodeProperties[];
	execute(this: IExecuteFunctions, i: number, inbox: InboxClient): Promise<ImapResult>;
}

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

/** The description of an operation on the Message resource, shown for it alone. */
export function changeDescription(
	operation: string,
	properties: INodeProperties[] = [],
): INodeProperties[] {
	return updateDisplayOptions({ show: { resource: ['message'], operation: [operation] } }, [
		...targetProperties,
		...properties,
	]);
}

/** Mark as Read / Unread, Flag, Unflag: one flag set or cleared. */
export function flagOperation(change: FlagChange): ChangeOperation {
	return {
		description: changeDescription(change),
		async execute(this: IExecuteFunctions, i: number, inbox: InboxClient): Promise<ImapResult> {
			const located = await locateForChange(this, i, inbox);
			return changedItem(located, await changeFlags(inbox, located, change));
		},
	};
}
