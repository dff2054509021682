/**
 * Reading messages in the Output format chosen (outputProperties in common.descriptions.ts):
 * headers only or the trigger's full item. Used by Message → Get, Get Many and Thread → Get.
 */
import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';

import type { InboxClient, SelectedFolder } from '../../shared/imap/inbox';
import {
	DEFAULT_MAX_MESSAGE_BYTES,
	fetchFullItems,
	fetchHeaderItems,
	type OutputFormat,
} from '../../shared/imap/messages';
import { MB } from '../../shared/format';
import { DEFAULT_BINARY_PREFIX } from '../../shared/mime/limits';
import type { ImapResult } from '../helpers/interfaces';
import { toOutputItem } from '../helpers/items';

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
