/** Message → Get Many: the messages of a folder that match the filters, newest first. */
import { updateDisplayOptions, type IExecuteFunctions, type INodeProperties } from 'n8n-workflow';

import type { InboxClient } from '../../../shared/imap/inbox';
import { checkReturnAll, searchFolder } from '../../../shared/imap/messages';
import type { SearchFilters } from '../../../shared/imap/search';
import type { ImapResult } from '../../helpers/interfaces';
import { folderProperty, outputProperties } from '../common.descriptions';
import { formatOf, readMessages } from '../readMessages';

const properties: INodeProperties[] = [
	folderProperty('Folder to search.'),
	{
		displayName: 'Return All',
		name: 'returnAll',
		type: 'boolean',
		default: false,
		description: 'Whether to return all results or only up to a given limit',
	},
	{
		displayName: 'Limit',
		name: 'limit',
		type: 'number',
		typeOptions: { minValue: 1 },
		default: 50,
		description: 'Max number of results to return',
		displayOptions: { show: { returnAll: [false] } },
	},
	{
		displayName: 'Filters',
		name: 'filters',
		type: 'collection',
		placeholder: 'Add Filter',
		default: {},
		description: 'All filters must match; the server searches, so large folders stay fast',
		options: [
			{
				displayName: 'Body Contains',
				name: 'text',
				type: 'string',
				default: '',
				description: 'Words in the body of the message',
			},
			{
				displayName: 'Flagged',
				name: 'flagged',
				type: 'options',
				options: [
					{ name: 'Flagged', value: 'flagged' },
					{ name: 'Not Flagged', value: 'unflagged' },
				],
				default: 'flagged',
				description: 'Only flagged (starred) messages, or only those not flagged',
			},
			{
				displayName: 'From',
				name: 'from',
				type: 'string',
				default: '',
				placeholder: 'jane@example.com',
				description: 'Part of the sender’s address or name, e.g. @example.com',
			},
			{
				displayName: 'Has Attachments',
				name: 'hasAttachments',
				type: 'boolean',
				default: true,
				description:
					'Whether to return only messages with attachments. Best effort: IMAP cannot search for attachments, so this finds multipart/mixed messages, the usual form of mail with attachments.',
			},
			{
				displayName: 'Header Name',
				name: 'headerName',
				type: 'string',
				default: '',
				placeholder: 'X-Ticket-ID',
				description: 'A header the message must have; with Header Value, a value it must contain',
			},
			{
				displayName: 'Header Value',
				name: 'headerValue',
				type: 'string',
				default: '',
				description: 'Text the header named in Header Name must contain',
			},
			{
				displayName: 'Message-ID',
				name: 'messageId',
				type: 'string',
				default: '',
				placeholder: '<abc@agentmail.to>',
				description: 'The Message-ID header of the message',
			},
			{
				displayName: 'Read Status',
				name: 'readStatus',
				type: 'options',
				options: [
					{ name: 'Unread', value: 'unread' },
					{ name: 'Read', value: 'read' },
				],
				default: 'unread',
				description: 'Only unread messages, or only read ones',
			},
			{
				displayName: 'Received After',
				name: 'since',
				type: 'dateTime',
				default: '',
				description:
					'Only messages that arrived at or after this date and time (in the workflow’s time zone unless it has an offset)',
			},
			{
				displayName: 'Received Before',
				name: 'before',
				type: 'dateTime',
				default: '',
				description:
					'Only messages that arrived before this date and time (in the workflow’s time zone unless it has an offset)',
			},
			{
				displayName: 'Subject Contains',
				name: 'subject',
				type: 'string',
				default: '',
			},
			{
				displayName: 'To',
				name: 'to',
				type: 'string',
				default: '',
				description: 'Part of a recipient’s address or name',
			},
		],
	},
	...outputProperties,
];

const displayOptions = { show: { resource: ['message'], operation: ['getMany'] } };

export const description = updateDisplayOptions(displayOptions, properties);

export async function execute(
	this: IExecuteFunctions,
	i: number,
	inbox: InboxClient,
): Promise<ImapResult> {
	const folder = this.getNodeParameter('folder', i, 'INBOX') as string;
	const filters = this.getNodeParameter('filters', i, {}) as SearchFilters;
	const { selected, uids } = await searchFolder(inbox, folder, filters, this.getTimezone());
	let wanted = uids;
	if (this.getNodeParameter('returnAll', i, false) === true) {
		checkReturnAll(uids.length, selected.path, formatOf(this, i));
	} else {
		wanted = uids.slice(0, Math.max(1, Math.floor(Number(this.getNodeParameter('limit', i, 50)))));
	}
	return await readMessages(this, i, inbox, selected, wanted);
}
