/**
 * Message → Forward: a received message to new recipients, over the same SMTP path as Send.
 * The original is read over the execution's IMAP connection (by default the input item's, as
 * Get finds it), quoted inline with its attachments or attached as an .eml.
 */
import { updateDisplayOptions, type IExecuteFunctions, type INodeProperties } from 'n8n-workflow';

import { locateMessage, messageIdOrNull, type MessageTarget } from '../../../shared/imap/locate';
import { fetchSource } from '../../../shared/imap/source';
import { composeMessage } from '../../../shared/smtp/compose';
import { assertForwardable, forwardParts, type ForwardMode } from '../../../shared/smtp/forward';
import {
	assertRecipientCount,
	parseRecipients,
	uniqueRecipients,
} from '../../../shared/smtp/limits';
import type { OperationContext, PreparedMessage } from '../../helpers/interfaces';
import { explain } from '../../helpers/errors';
import { withIdentity } from '../../helpers/sendOnce';
import {
	bodyProperties,
	sendOnceKeyOption,
	sendOptionsProperty,
	targetProperties,
} from '../common.descriptions';
import { readOutgoing, type OutgoingOptions } from './readOutgoing';
import { readTarget } from './readTarget';

const properties: INodeProperties[] = [
	...targetProperties,
	{
		displayName: 'To',
		name: 'to',
		type: 'string',
		required: true,
		default: '',
		placeholder: 'accounting@example.com',
		description:
			'Who gets the forward, separated by commas; display names allowed. At most 50 across To, CC and BCC.',
	},
	{
		displayName: 'Forward As',
		name: 'forwardAs',
		type: 'options',
		options: [
			{
				name: 'Inline',
				value: 'inline',
				description:
					'The original’s headers and text below your note, with its attachments, as mail clients forward',
			},
			{
				name: 'Attachment (.eml)',
				value: 'attachment',
				description: 'The original unchanged, attached as an .eml file, below your note',
			},
		],
		default: 'inline',
		description: 'How the original message goes along. The subject gets "Fwd: " in front, once.',
	},
	...bodyProperties,
	sendOptionsProperty([
		{
			displayName: 'Send Once',
			name: 'sendOnce',
			type: 'boolean',
			default: true,
			description:
				'Whether to forward each message to the same recipients only once from this node: a retried execution finds the earlier forward in the Sent folder and sends nothing (the item says alreadySent). Forwarding it to other recipients still goes out.',
		},
		sendOnceKeyOption(
			'={{ $json.ticketId }}',
			'What makes a forward unique instead of the original message and its recipients, e.g. a ticket number. Empty: the original’s Message-ID (or folder and UID) and the recipients.',
		),
	]),
];

const displayOptions = { show: { resource: ['message'], operation: ['forward'] } };

export const description = updateDisplayOptions(displayOptions, properties);

interface ForwardOptions extends OutgoingOptions {
	/** Skip a forward of the same message to the same recipients (default on). */
	sendOnce?: boolean;
	/** What makes a forward unique instead of the original and its recipients. */
	sendOnceKey?: string;
}

function options(ctx: IExecuteFunctions, i: number): ForwardOptions {
	return ctx.getNodeParameter('options', i, {}) as ForwardOptions;
}

/** Unique recipients of item `i`, checked against AgentMail's count before anything is opened. */
function recipients(ctx: IExecuteFunctions, i: number): string[] {
	const { cc, bcc } = options(ctx, i);
	const unique = uniqueRecipients(
		parseRecipients('To', ctx.getNodeParameter('to', i) as string),
		parseRecipients('CC', cc),
		parseRecipients('BCC', bcc),
	);
	assertRecipientCount(unique);
	return unique;
}

/**
 * The send once key. On by default, as for Reply: a forward has a natural identity, the
 * message forwarded and who it goes to, so a retried execution never forwards the same
 * message to the same people twice, while a forward of it to someone else still goes.
 */
export function sendOnceKey(this: IExecuteFunctions, i: number): string | null {
	const { sendOnce, sendOnceKey: custom } = options(this, i);
	if (sendOnce === false) return null;
	const key = String(custom ?? '').trim();
	if (key) return key;
	const target = readTarget(this, i);
	const message = messageIdOrNull(target.messageId) ?? `${target.folder}/${target.uid}`;
	const to = recipients(this, i).map((address) => address.toLowerCase());
	return `forward\n${message}\n${to.sort().join(',')}`;
}

/** The message to forward, read over the execution's IMAP connection. */
async function readOriginal(context: OperationContext, target: MessageTarget) {
	const client = await context.imap();
	const located = await locateMessage(client, target);
	const raw = await fetchSource(client, located, assertForwardable);
	return { raw, uid: located.uid, folder: located.selected.path };
}

export async function execute(
	this: IExecuteFunctions,
	i: number,
	context: OperationContext,
): Promise<PreparedMessage> {
	const inbox = context.connection.email;
	const { message, options } = await readOutgoing<ForwardOptions>(this, i, inbox);
	// Recipients first: a wrong To fails before any connection, IMAP or SMTP, is opened.
	recipients(this, i);
	const mode: ForwardMode =
		this.getNodeParameter('forwardAs', i, 'inline') === 'attachment' ? 'attachment' : 'inline';
	const target = readTarget(this, i);
	const original = await readOriginal(context, target).catch((error: unknown) => {
		throw explain(
			error,
			(cause) =>
				`The IMAP connection to ${inbox} failed while reading the message to forward (${cause}). Nothing was sent: run it again.`,
		);
	});
	const parts = await forwardParts(
		original,
		mode,
		{ text: message.text, html: message.html },
		inbox,
	);
	const composed = await composeMessage({
		...withIdentity(message, context.sendOnce.identityOf(i)),
		to: this.getNodeParameter('to', i) as string,
		subject: parts.subject,
		text: parts.text,
		html: parts.html,
		attachments: [...parts.attachments, ...(message.attachments ?? [])],
	});
	return {
		composed,
		validateOnly: options.validateOnly === true,
		output: {
			forwardAs: mode,
			forwarded: parts.original,
			...(parts.warnings.length ? { warnings: parts.warnings } : {}),
		},
	};
}
