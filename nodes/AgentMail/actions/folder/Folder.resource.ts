/** The Folder resource: the inbox's folders. No draft operations: the notice (DRAFTS_NOTE) says why. */
import type { INodeProperties } from 'n8n-workflow';

import { DRAFTS_NOTE } from '../../../shared/imap/inbox';
import * as getMany from './getMany.operation';

export { getMany };

export const description: INodeProperties[] = [
	{
		displayName: DRAFTS_NOTE,
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
