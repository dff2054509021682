/** The Folder resource: the inbox's folders. There are no draft operations (see the notice). */
import type { INodeProperties } from 'n8n-workflow';

import * as getMany from './getMany.operation';

export { getMany };

export const description: INodeProperties[] = [
	{
		displayName:
			"AgentMail's Drafts folder is always empty and cannot be written, so this node has no draft operations. To check a message without sending it, use Message → Send with Validate Only.",
		name: 'draftsNotice',
		type: 'notice',
		default: '',
		displayOptions: { show: { resource: ['folder'] } },
	},
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['folder'] } },
		options: [
			{
				name: 'Get Many',
				value: 'getMany',
				description: 'List the folders of the inbox with their total, unread and next UID',
				action: 'Get many folders',
			},
		],
		default: 'getMany',
	},
	...getMany.description,
];
