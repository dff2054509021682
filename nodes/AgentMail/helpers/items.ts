/** Messages read over IMAP as n8n items: full items get their binaries stored by n8n. */
import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';

import { toN8nBinary } from '../../shared/mime/item';
import type { FullItem } from '../../shared/imap/messages';
import type { ImapResult } from './interfaces';

/** One full message as an output item; its attachments (and raw .eml) as n8n binary data. */
export async function toOutputItem(
	ctx: IExecuteFunctions,
	item: FullItem,
): Promise<ImapResult[number]> {
	const entries = Object.entries(item.binaries);
	if (!entries.length) return { json: item.json as unknown as IDataObject };
	const binary: NonNullable<ImapResult[number]['binary']> = {};
	for (const [property, file] of entries) {
		binary[property] = await ctx.helpers.prepareBinaryData(
			toN8nBinary(file),
			file.fileName,
			file.mimeType,
		);
	}
	return { json: item.json as unknown as IDataObject, binary };
}
