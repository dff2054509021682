/** The Message resource: its operations and their parameters. Add an operation as a file here. */
import { SEND_AND_WAIT_OPERATION, type INodeProperties } from 'n8n-workflow';

import * as del from './delete.operation';
import * as flag from './flag.operation';
import * as forward from './forward.operation';
import * as get from './get.operation';
import * as getMany from './getMany.operation';
import * as markRead from './markRead.operation';
import * as markUnread from './markUnread.operation';
import * as move from './move.operation';
import * as reply from './reply.operation';
import * as send from './send.operation';
import * as sendAndWait from './sendAndWait.operation';
import * as unflag from './unflag.operation';

export {
	del as delete,
	flag,
	forward,
	get,
	getMany,
	markRead,
	markUnread,
	move,
	reply,
	send,
	sendAndWait,
	unflag,
};

export const description: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['message'] } },
		options: [
			{
				name: 'Delete',
				value: 'delete',
				description:
					'Move a message to Trash, or remove it for good with Delete Permanently (that message only)',
				action: 'Delete a message',
			},
			{
				name: 'Flag',
				value: 'flag',
				description: 'Flag (star) a message',
				action: 'Flag a message',
			},
			{
				name: 'Forward',
				value: 'forward',
				description:
					'Forward a message (the input item’s, or by UID or Message-ID) to new recipients, inline with its attachments or as an attached .eml',
				action: 'Forward a message',
			},
			{
				name: 'Get',
				value: 'get',
				description:
					'Read one message: the input item’s (from the trigger or Get Many), or by UID or Message-ID',
				action: 'Get a message',
			},
			{
				name: 'Get Many',
				value: 'getMany',
				description:
					'Search a folder of the inbox: unread, from, subject, dates and more; newest first',
				action: 'Search messages',
			},
			{
				name: 'Mark as Read',
				value: 'markRead',
				description: 'Mark a message as read',
				action: 'Mark a message as read',
			},
			{
				name: 'Mark as Unread',
				value: 'markUnread',
				description: 'Mark a message as unread',
				action: 'Mark a message as unread',
			},
			{
				name: 'Move',
				value: 'move',
				description: 'Move a message to another folder, e.g. INBOX, Trash or Spam',
				action: 'Move a message',
			},
			{
				name: 'Reply',
				value: 'reply',
				description: 'Reply in the thread of a received message',
				action: 'Reply to a message',
			},
			{
				name: 'Send',
				value: 'send',
				description: 'Send a new message from the inbox',
				action: 'Send a message',
			},
			{
				name: 'Send and Wait for Response',
				value: SEND_AND_WAIT_OPERATION,
				description:
					'Mail a person a question and wait for the answer: approval, free text or a form, through a link in the mail',
				action: 'Send a message and wait for response',
			},
			{
				name: 'Unflag',
				value: 'unflag',
				description: 'Remove the flag (star) from a message',
				action: 'Unflag a message',
			},
		],
		default: 'send',
	},
	...send.description,
	...sendAndWait.description,
	...reply.description,
	...forward.description,
	...getMany.description,
	...get.description,
	...markRead.description,
	...markUnread.description,
	...flag.description,
	...unflag.description,
	...move.description,
	...del.description,
];
