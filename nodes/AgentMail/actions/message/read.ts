/**
 * What Get and Get Many share: the output format (headers only or the trigger's full item)
 * and its options, and reading the messages in that format.
 */
import type { IDataObject, IExecuteFunctions, INodeProperties } from 'n8n-workflow';

import type { InboxClient, SelectedFolder } from '../../../shared/imap/inbox';
import {
	DEFAULT_MAX_MESSAGE_BYTES,
	fetchFullItems,
	fetchHeaderItems,
	type OutputFormat,
} from '../../../shared/imap/messages';
import { DEFAULT_BINARY_PREFIX } from '../../../shared/mime/limits';
import { MB } from '../../../shared/format';
import type { ImapResult } from '../../helpers/interfaces';
import { toOutputItem } from '../../helpers/items';

/** The Folder parameter: the inbox's folders, as the trigger lists them. */
export function folderProperty(description: string): INodeProperties {
	return {
		displayName: 'Folder Name or ID',
		name: 'folder',
		type: 'options',
		typeOptions: { loadOptionsMethod: 'listFolders' },
		default: 'INBOX',
		description: `${description} Names other than INBOX are case-sensitive. Choose from the list, or specify an ID using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.`,
	};
}

export const readProperties: INodeProperties[] = [
	{
		displayName: 'Output',
		name: 'format',
		type: 'options',
		options: [
			{
				name: 'Full',
				value: 'full',
				description:
					'The parsed message as the AgentMail Trigger emits it: text, html, replyText, attachments, headers',
			},
			{
				name: 'Headers Only',
				value: 'headers',
				description:
					'Fast: from, to, cc, subject, date, Message-ID, the headers and flags; no body',
			},
		],
		default: 'full',
		description: 'How much of each message to return',
	},
	{
		displayName: 'Options',
		name: 'readOptions',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		displayOptions: { show: { format: ['full'] } },
		options: [
			{
				displayName: 'Download Attachments',
				name: 'downloadAttachments',
				type: 'boolean',
				default: false,
				description:
					'Whether to return attachments as binary data (properties attachment_0, attachment_1, ...). They are always listed in "attachments".',
			},
			{
				displayName: 'Attachment Prefix',
				name: 'binaryPrefix',
				type: 'string',
				default: DEFAULT_BINARY_PREFIX,
				description: 'Prefix of the binary properties attachments are put in',
			},
			{
				displayName: 'Include Raw Message',
				name: 'includeRaw',
				type: 'boolean',
				default: false,
				description: 'Whether to also return the whole message as binary data "raw" (message.eml)',
			},
			{
				displayName: 'Max Message Size (MB)',
				name: 'maxMessageMb',
				type: 'number',
				typeOptions: { minValue: 1 },
				// DEFAULT_MAX_MESSAGE_BYTES in MB (n8n's lint wants a literal here).
				default: 40,
				description: 'Larger messages are returned with their headers only, and a warning',
			},
		],
	},
];

interface ReadOptions {
	downloadAttachments?: boolean;
	binaryPrefix?: string;
	includeRaw?: boolean;
	maxMessageMb?: number;
}

/** The chosen output format of item `i`. */
export function formatOf(ctx: IExecuteFunctions, i: number): OutputFormat {
	return ctx.getNodeParameter('format', i, 'full') === 'headers' ? 'headers' : 'full';
}

/** The messages `uids` of the selected folder as output items, in that order. */
export async function readMessages(
	ctx: IExecuteFunctions,
	i: number,
	inbox: InboxClient,
	selected: SelectedFolder,
	uids: number[],
): Promise<ImapResult> {
	if (formatOf(ctx, i) === 'headers') {
		const items = await fetchHeaderItems(inbox, selected, uids);
		return items.map((json) => ({ json: json as unknown as IDataObject }));
	}
	const options = ctx.getNodeParameter('readOptions', i, {}) as ReadOptions;
	const output: ImapResult = [];
	for await (const item of fetchFullItems(inbox, selected, uids, {
		attachments: options.downloadAttachments === true,
		binaryPrefix: options.binaryPrefix || DEFAULT_BINARY_PREFIX,
		includeRaw: options.includeRaw === true,
		maxMessageBytes: Math.floor(
			Number(options.maxMessageMb || DEFAULT_MAX_MESSAGE_BYTES / MB) * MB,
		),
		inbox: inbox.address,
	})) {
		output.push(await toOutputItem(ctx, item));
	}
	return output;
}
