/** The Inbox resource: the inbox as a whole, and what its servers support. */
import type { INodeProperties } from 'n8n-workflow';

import * as checkCapabilities from './checkCapabilities.operation';

export { checkCapabilities };

export const description: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['inbox'] } },
		options: [
			{
				name: 'Check Capabilities',
				value: 'checkCapabilities',
				description:
					'Report what the inbox’s IMAP and SMTP servers support and which features of this node run fully, degraded or not at all there. Changes nothing.',
				action: 'Check what the inbox supports',
			},
		],
		default: 'checkCapabilities',
	},
	...checkCapabilities.description,
];
