/** The Thread resource: the conversation a message belongs to. */
import type { INodeProperties } from 'n8n-workflow';

import * as get from './get.operation';

export { get };

export const description: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['thread'] } },
		options: [
			{
				name: 'Get',
				value: 'get',
				description:
					'Get the whole conversation a message belongs to (replies and what it answers, received and sent), oldest first',
				action: 'Get a conversation',
			},
		],
		default: 'get',
	},
	...get.description,
];
