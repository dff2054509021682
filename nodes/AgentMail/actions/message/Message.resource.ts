/** The Message resource: its operations and their parameters. Add an operation as a file here. */
import type { INodeProperties } from 'n8n-workflow';

import * as get from './get.operation';
import * as getMany from './getMany.operation';
import * as reply from './reply.operation';
import * as send from './send.operation';

export { get, getMany, reply, send };

export const description: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['message'] } },
		options: [
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
		],
		default: 'send',
	},
	...send.description,
	...reply.description,
	...getMany.description,
	...get.description,
];
