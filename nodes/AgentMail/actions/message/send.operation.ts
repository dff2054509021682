/** Message → Send: a new message from the inbox. */
import { updateDisplayOptions, type IExecuteFunctions, type INodeProperties } from 'n8n-workflow';

import { composeMessage } from '../../../shared/smtp/compose';
import type { OperationContext, PreparedMessage } from '../../helpers/interfaces';
import { withIdentity } from '../../helpers/sendOnce';
import { bodyProperties, sendOnceKeyOption, sendOptionsProperty } from '../common.descriptions';
import { readOutgoing, type OutgoingOptions } from './readOutgoing';

const properties: INodeProperties[] = [
	{
		displayName: 'To',
		name: 'to',
		type: 'string',
		required: true,
		default: '',
		placeholder: 'jane@example.com, "Bob" <bob@example.com>',
		description:
			'Recipients, separated by commas; display names allowed. At most 50 across To, CC and BCC.',
	},
	{
		displayName: 'Subject',
		name: 'subject',
		type: 'string',
		default: '',
	},
	...bodyProperties,
	sendOptionsProperty([
		sendOnceKeyOption(
			'={{ $json.orderId }}',
			'Sends the message for a key only once from this node: a retried execution finds the earlier message in the Sent folder and sends nothing (the item says alreadySent). Use something unique to what the message is for, e.g. an order number. Empty: every run sends.',
		),
	]),
];

const displayOptions = { show: { resource: ['message'], operation: ['send'] } };

export const description = updateDisplayOptions(displayOptions, properties);

interface SendOptions extends OutgoingOptions {
	/** The key that makes a message go out once. */
	sendOnceKey?: string;
}

/** The key send once answers for, when one is set. */
export function sendOnceKey(this: IExecuteFunctions, i: number): string | null {
	const options = this.getNodeParameter('options', i, {}) as SendOptions;
	const key = String(options.sendOnceKey ?? '').trim();
	return key || null;
}

export async function execute(
	this: IExecuteFunctions,
	i: number,
	context: OperationContext,
): Promise<PreparedMessage> {
	const { message, options } = await readOutgoing<SendOptions>(this, i, context.connection.email);
	const composed = await composeMessage({
		...withIdentity(message, context.sendOnce.identityOf(i)),
		to: this.getNodeParameter('to', i) as string,
		subject: this.getNodeParameter('subject', i, '') as string,
	});
	return { composed, validateOnly: options.validateOnly === true };
}
