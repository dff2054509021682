/** n8n binary data → attachments. Only the item's own binary data; never paths or URLs. */
import { NodeOperationError, type IExecuteFunctions } from 'n8n-workflow';

import type { OutgoingAttachment } from '../../shared/smtp/compose';

/**
 * Reads the named binary properties of item `i` (or all of them).
 *
 * @throws NodeOperationError naming a property the item does not have, and the ones it has.
 */
export async function readAttachments(
	ctx: IExecuteFunctions,
	i: number,
	names: string | undefined,
	all: boolean,
): Promise<OutgoingAttachment[]> {
	const binary = ctx.getInputData()[i]?.binary ?? {};
	const available = Object.keys(binary);
	const wanted = all
		? available
		: (names ?? '')
				.split(',')
				.map((name) => name.trim())
				.filter(Boolean);
	const attachments: OutgoingAttachment[] = [];
	for (const name of wanted) {
		const data = binary[name];
		if (!data) {
			throw new NodeOperationError(
				ctx.getNode(),
				`The input item has no binary property "${name}" to attach. ${available.length ? `It has: ${available.join(', ')}.` : 'It has no binary data at all.'} Fix the name in Options → Attachments.`,
				{ itemIndex: i },
			);
		}
		attachments.push({
			filename: data.fileName ?? name,
			contentType: data.mimeType,
			content: await ctx.helpers.getBinaryDataBuffer(i, name),
		});
	}
	return attachments;
}
