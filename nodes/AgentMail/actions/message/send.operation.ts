/** Message → Send: a new message from the inbox. */
import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';

import { composeMessage } from '../../../shared/smtp/compose';
import { bodyProperties, optionsProperty, readCommon } from './common';
import type { OperationContext, PreparedMessage } from '../../helpers/deliver';

export const description: INodeProperties[] = [
	{
		displayName: 'To',
		name: 'to',
		type: 'string',
		required: true,
		default: '',
		placeholder: 'jane@example.com, "Bob" <bob@example.com>',
		description:
			'Recipients, separated by commas; display names allowed. At most 50 across To, CC and BCC.',
		displayOptions: { show: { resource: ['message'], operation: ['send'] } },
	},
	{
		displayName: 'Subject',
		name: 'subject',
		type: 'string',
		default: '',
		displayOptions: { show: { resource: ['message'], operation: ['send'] } },
	},
	...bodyProperties('send'),
	optionsProperty('send'),
];

export async function execute(
	this: IExecuteFunctions,
	i: number,
	context: OperationContext,
): Promise<PreparedMessage> {
	const { message, options } = await readCommon(this, i, context.connection.email);
	const composed = await composeMessage({
		...message,
		to: this.getNodeParameter('to', i) as string,
		subject: this.getNodeParameter('subject', i, '') as string,
	});
	return { composed, validateOnly: options.validateOnly === true };
}
