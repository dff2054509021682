/** Reading what Send, Reply and Forward share from an item into an OutgoingMessage. */
import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';

import type { OutgoingMessage } from '../../../shared/smtp/compose';
import { readAttachments } from '../../helpers/attachments';

/**
 * The entries of the Options collection every sending operation has (sendOptionsProperty);
 * each operation extends it with its own.
 */
export interface OutgoingOptions {
	attachAllBinary?: boolean;
	attachments?: string;
	bcc?: string;
	cc?: string;
	customHeaders?: { header?: Array<{ name?: string; value?: string }> };
	replyTo?: string;
	senderName?: string;
	validateOnly?: boolean;
}

/**
 * Reads body, attachments and common options of item `i` into the parts of a message, and
 * the Options collection as the operation's own type `O`.
 */
export async function readOutgoing<O extends OutgoingOptions = OutgoingOptions>(
	ctx: IExecuteFunctions,
	i: number,
	inbox: string,
): Promise<{ message: OutgoingMessage; options: O }> {
	const options = ctx.getNodeParameter('options', i, {}) as O & IDataObject;
	const format = ctx.getNodeParameter('emailFormat', i, 'text') as string;
	const text = format === 'html' ? undefined : (ctx.getNodeParameter('text', i, '') as string);
	const html = format === 'text' ? undefined : (ctx.getNodeParameter('html', i, '') as string);
	const headers: Record<string, string> = {};
	for (const { name, value } of options.customHeaders?.header ?? []) {
		if (name) headers[name] = value ?? '';
	}
	return {
		options,
		message: {
			inbox,
			fromName: options.senderName,
			cc: options.cc,
			bcc: options.bcc,
			replyTo: options.replyTo,
			text,
			html,
			headers,
			attachments: await readAttachments(
				ctx,
				i,
				options.attachments,
				options.attachAllBinary === true,
			),
		},
	};
}
