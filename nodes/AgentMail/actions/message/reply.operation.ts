/** Message → Reply: an answer in the same thread as a message the AgentMail Trigger emitted. */
import { updateDisplayOptions, type IExecuteFunctions, type INodeProperties } from 'n8n-workflow';

import { composeMessage } from '../../../shared/smtp/compose';
import {
	quoteHtml,
	quoteText,
	readOriginal,
	replyAddressing,
	type OriginalInput,
} from '../../../shared/smtp/reply';
import type { OperationContext, PreparedMessage } from '../../helpers/interfaces';
import { withIdentity } from '../../helpers/sendOnce';
import { bodyProperties, sendOptionsProperty } from '../common.descriptions';
import { readOutgoing, type OutgoingOptions } from './readOutgoing';

/** The parameters shown only when the original's fields are mapped. */
const showFields = { source: ['fields'] };

const properties: INodeProperties[] = [
	{
		displayName: 'Message to Reply To',
		name: 'source',
		type: 'options',
		options: [
			{
				name: 'Input Item (From AgentMail Trigger)',
				value: 'inputItem',
				description: 'Reads messageId, subject, from, replyTo, to, cc and references from the item',
			},
			{
				name: 'Mapped Fields',
				value: 'fields',
				description: 'Map the original message’s fields yourself',
			},
		],
		default: 'inputItem',
	},
	{
		displayName: 'Message-ID',
		name: 'originalMessageId',
		type: 'string',
		required: true,
		default: '={{ $json.messageId }}',
		placeholder: '<abc@agentmail.to>',
		description: 'Message-ID of the message to answer',
		displayOptions: { show: showFields },
	},
	{
		displayName: 'From',
		name: 'originalFrom',
		type: 'string',
		default: '={{ $json.from?.address }}',
		description: 'Sender of the original; the reply goes here unless Reply-To is set',
		displayOptions: { show: showFields },
	},
	{
		displayName: 'Reply-To',
		name: 'originalReplyTo',
		type: 'string',
		default: '',
		description: 'Reply-To of the original, if any',
		displayOptions: { show: showFields },
	},
	{
		displayName: 'Subject',
		name: 'originalSubject',
		type: 'string',
		default: '={{ $json.subject }}',
		description: 'Subject of the original; the reply gets "Re: " in front, once',
		displayOptions: { show: showFields },
	},
	{
		displayName: 'References',
		name: 'originalReferences',
		type: 'string',
		default: '',
		description: 'References header of the original (Message-IDs separated by spaces), if any',
		displayOptions: { show: showFields },
	},
	...bodyProperties,
	sendOptionsProperty([
		{
			displayName: 'Quote Original',
			name: 'quoteOriginal',
			type: 'boolean',
			default: false,
			description: 'Whether to quote the original text below the reply',
		},
		{
			displayName: 'Reply to All',
			name: 'replyAll',
			type: 'boolean',
			default: false,
			description: 'Whether to copy everyone the original went to (To and CC), except this inbox',
		},
		{
			displayName: 'Send Once',
			name: 'sendOnce',
			type: 'boolean',
			default: true,
			description:
				'Whether to answer each message only once from this node: a retried execution finds the earlier reply in the Sent folder and sends nothing (the item says alreadySent). On unless turned off here.',
		},
	]),
];

const displayOptions = { show: { resource: ['message'], operation: ['reply'] } };

export const description = updateDisplayOptions(displayOptions, properties);

interface ReplyOptions extends OutgoingOptions {
	quoteOriginal?: boolean;
	replyAll?: boolean;
	/** Skip what this node already answered (default on). */
	sendOnce?: boolean;
}

function originalInput(ctx: IExecuteFunctions, i: number): OriginalInput {
	if (ctx.getNodeParameter('source', i, 'inputItem') === 'inputItem') {
		return ctx.getInputData()[i]?.json ?? {};
	}
	return {
		messageId: ctx.getNodeParameter('originalMessageId', i, ''),
		from: ctx.getNodeParameter('originalFrom', i, ''),
		replyTo: ctx.getNodeParameter('originalReplyTo', i, ''),
		subject: ctx.getNodeParameter('originalSubject', i, ''),
		references: ctx.getNodeParameter('originalReferences', i, ''),
	};
}

/** The key send once answers for: the original's Message-ID, unless turned off. */
export function sendOnceKey(this: IExecuteFunctions, i: number): string | null {
	const options = this.getNodeParameter('options', i, {}) as ReplyOptions;
	if (options.sendOnce === false) return null;
	return readOriginal(originalInput(this, i)).messageId;
}

export async function execute(
	this: IExecuteFunctions,
	i: number,
	context: OperationContext,
): Promise<PreparedMessage> {
	const inbox = context.connection.email;
	const original = readOriginal(originalInput(this, i));
	const { message, options } = await readOutgoing<ReplyOptions>(this, i, inbox);
	const addressing = replyAddressing(original, inbox, options.replyAll === true);
	const quote = options.quoteOriginal === true;
	const composed = await composeMessage({
		...withIdentity(message, context.sendOnce.identityOf(i)),
		to: addressing.to,
		// The original's recipients (reply to all) first, then any CC the user added.
		cc: [...addressing.cc, ...(message.cc ? [String(message.cc)] : [])],
		subject: addressing.subject,
		inReplyTo: addressing.inReplyTo,
		references: addressing.references,
		text: quote && message.text !== undefined ? quoteText(message.text, original) : message.text,
		html: quote && message.html !== undefined ? quoteHtml(message.html, original) : message.html,
	});
	return { composed, validateOnly: options.validateOnly === true };
}
