/**
 * The message item `i` means, as the Message parameters (targetProperties in
 * ../common.descriptions.ts) name it.
 */
import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';

import { InputError } from '../../../shared/errors';
import type { MessageTarget } from '../../../shared/imap/locate';

const optionalText = (value: unknown): string | undefined =>
	value === undefined || value === null || value === '' ? undefined : String(value);

/** The message item `i` means. @throws InputError when the input item names none. */
export function readTarget(ctx: IExecuteFunctions, i: number): MessageTarget {
	const from = ctx.getNodeParameter('messageFrom', i, 'inputItem') as string;
	if (from === 'inputItem') {
		const json: IDataObject = ctx.getInputData()[i]?.json ?? {};
		if (json.uid === undefined && !json.messageId) {
			throw new InputError(
				'The input item has no "uid" or "messageId": put the AgentMail Trigger or Message → Get Many before this node, or set Message to By UID or By Message-ID.',
			);
		}
		return {
			folder: optionalText(json.folder) ?? 'INBOX',
			uid: json.uid === undefined || json.uid === null ? undefined : (json.uid as number | string),
			uidValidity: optionalText(json.uidValidity),
			messageId: optionalText(json.messageId),
		};
	}
	const folder = ctx.getNodeParameter('folder', i, 'INBOX') as string;
	const messageId = optionalText(ctx.getNodeParameter('messageId', i, ''));
	if (from === 'messageId') {
		if (!messageId) throw new InputError("Message-ID is empty: enter the message's Message-ID.");
		return { folder, messageId };
	}
	return {
		folder,
		uid: ctx.getNodeParameter('uid', i) as number | string,
		uidValidity: optionalText(ctx.getNodeParameter('uidValidity', i, '')),
		messageId,
	};
}
