/**
 * Which message Get and the operations that change a message act on: by default the input
 * item's (from the AgentMail Trigger or Get Many), like Reply's Input Item mode; or a UID in a
 * folder; or a Message-ID.
 */
import type { IDataObject, IExecuteFunctions, INodeProperties } from 'n8n-workflow';

import { InputError } from '../../../shared/errors';
import type { MessageTarget } from '../../../shared/imap/locate';
import { folderProperty } from './read';

const showUid = { show: { messageFrom: ['uid'] } };

export const targetProperties: INodeProperties[] = [
	{
		displayName: 'Message',
		name: 'messageFrom',
		type: 'options',
		options: [
			{
				name: 'Input Item (From AgentMail Trigger or Get Many)',
				value: 'inputItem',
				description: 'Reads uid, uidValidity, folder and messageId from the input item',
			},
			{ name: 'By UID', value: 'uid', description: 'A UID in a folder' },
			{ name: 'By Message-ID', value: 'messageId', description: 'The Message-ID header' },
		],
		default: 'inputItem',
		description: 'Which message to act on',
	},
	{
		...folderProperty('Folder the message is in.'),
		displayOptions: { show: { messageFrom: ['uid', 'messageId'] } },
	},
	{
		displayName: 'UID',
		name: 'uid',
		type: 'number',
		typeOptions: { minValue: 1 },
		required: true,
		default: 0,
		description: 'The "uid" of the message, as the trigger or Get Many gave it',
		displayOptions: showUid,
	},
	{
		displayName: 'UID Validity',
		name: 'uidValidity',
		type: 'string',
		default: '',
		description:
			'The "uidValidity" given with the UID, if known. When the folder has another one now (it was renumbered), the UID is not used; the Message-ID is.',
		displayOptions: showUid,
	},
	{
		displayName: 'Message-ID',
		name: 'messageId',
		type: 'string',
		default: '',
		placeholder: '<abc@agentmail.to>',
		description:
			'The Message-ID header of the message. With a UID: checked against the message, and used to find it if the UID no longer fits.',
		displayOptions: { show: { messageFrom: ['uid', 'messageId'] } },
	},
];

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
