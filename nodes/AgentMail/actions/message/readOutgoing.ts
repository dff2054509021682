/** Reading what Send, Reply and Forward share from an item into an OutgoingMessage. */
import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';

import type { OutgoingMessage } from '../../../shared/smtp/compose';
import { readAttachments } from '../../helpers/attachments';

/** The options collection as read from one item. */
export interface MessageOptions {
	attachAllBinary?: boolean;
	attachments?: string;
	bcc?: string;
	cc?: string;
	customHeaders?: { header?: Array<{ name?: string; value?: string }> };
	replyTo?: string;
	senderName?: string;
	validateOnly?: boolean;
	replyAll?: boolean;
	quoteOriginal?: boolean;
	/** Reply: skip what this node already answered (default on). */
	sendOnce?: boolean;
	/** Send: the key that makes a message go out once. */
	sendOnceKey?: string;
}

/** Reads body, attachments and common options of item `i` into the parts of a message. */
export async function readOutgoing(
	ctx: IExecuteFunctions,
	i: number,
	inbox: string,
): Promise<{ message: OutgoingMessage; options: MessageOptions }> {
	const options = ctx.getNodeParameter('options', i, {}) as MessageOptions & IDataObject;
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
