/**
 * Turns one raw message fetched over IMAP into one trigger item: JSON fields, attachments as
 * binaries, and a verdict on whether the message is automatic.
 *
 * Never throws and never hangs: malformed mail becomes an item with warnings, a parse that
 * takes too long becomes a headers-only item. The header fields come from a small reader of
 * our own (./headers), the body and attachments from mailparser's streaming parser (./parse,
 * ./bodies, ./fileNames); the item's types are in ./item.
 */
import { errorText } from '../errors';
import { classifyAutomatic } from './automatic';
import {
	fieldValues,
	findHeaderEnd,
	firstField,
	firstMessageId,
	messageIdList,
	parseAddresses,
	parseDate,
	parseHeaderBlock,
	toHeaderMap,
	type HeaderField,
} from './headers';
import {
	resolveOptions,
	type MessageBinary,
	type MessageMeta,
	type ParsedMessage,
	type ResolvedOptions,
	type ToItemOptions,
	type MessageItem,
} from './item';
import { readBody } from './bodies';
import { MAX_HEADER_BLOCK_BYTES, RAW_BINARY_PROPERTY } from './limits';
import { runMailParser } from './parse';
import { scanStructure } from './structure';
import { quote, Warnings } from './warnings';

/**
 * Parses a raw message into one trigger item. Never throws: malformed mail gives an item with
 * warnings; a parse that fails or exceeds `parseTimeoutMs` gives a headers-only item.
 *
 * @param raw the whole message as fetched (RFC822 / BODY[])
 * @param meta what IMAP reported for it
 */
export async function parseMessage(
	raw: Buffer,
	meta: MessageMeta,
	options: ToItemOptions = {},
): Promise<ParsedMessage> {
	const resolved = resolveOptions(options);
	try {
		return await parseWithin(raw, meta, resolved);
	} catch (error) {
		// Last line of defence: a bug here must still yield an item, never a crashed trigger.
		const reason = `the message could not be parsed: ${errorText(error)}`;
		return headersOnlyItem(raw, meta, reason, resolved.inbox);
	}
}

/**
 * Builds an item from the header block alone, for a message that is not parsed in full (over
 * the trigger's size cap), or when only headers were asked for (the action node's Headers
 * Only: `reason` null, no warning). `headerBytes` may be the header block or the start of the
 * message; reading stops at the first blank line. Text is '', attachments [], warnings
 * [reason, ...].
 */
export function headersOnlyItem(
	headerBytes: Buffer,
	meta: MessageMeta,
	reason: string | null,
	inbox?: string,
): ParsedMessage {
	const warnings = new Warnings();
	if (reason !== null) warnings.add(reason);
	try {
		const { fields } = readHeaders(headerBytes, warnings, false);
		const json = itemFromHeaders(fields, meta, warnings);
		json.warnings = warnings.toArray();
		return { json, binaries: {}, automatic: classifyAutomatic(json.headers, inbox) };
	} catch (error) {
		warnings.add(`the headers could not be read: ${errorText(error)}`);
		const json = itemFromHeaders([], meta, warnings);
		json.warnings = warnings.toArray();
		return { json, binaries: {}, automatic: { automatic: false, reason: null } };
	}
}

async function parseWithin(
	raw: Buffer,
	meta: MessageMeta,
	options: ResolvedOptions,
): Promise<ParsedMessage> {
	const deadline = Date.now() + options.parseTimeoutMs;
	const warnings = new Warnings();
	if (raw.length === 0) warnings.add('the message is empty');

	const { fields, bodyStart } = readHeaders(raw, warnings, true);
	const json = itemFromHeaders(fields, meta, warnings);
	const report = scanStructure(raw, fields, bodyStart, warnings);
	const binaries: Record<string, MessageBinary> = {};

	const outcome = await runMailParser(raw, options, deadline);
	if (outcome.kind === 'done') {
		const { binaries: attachmentBinaries, ...body } = await readBody({
			outcome,
			maxAttachmentBytes: options.maxAttachmentBytes,
			binaryPrefix: options.binaryPrefix,
			deadline,
			textCharsets: report.textCharsets,
			warnings,
		});
		Object.assign(json, body);
		Object.assign(binaries, attachmentBinaries);
	} else if (outcome.kind === 'timeout') {
		warnings.add(
			`parsing took longer than ${options.parseTimeoutMs} ms: only the headers are given`,
		);
	} else {
		warnings.add(
			`the message body could not be parsed (${outcome.message}): only the headers are given`,
		);
	}

	if (options.includeRaw) {
		binaries[RAW_BINARY_PROPERTY] = {
			chunks: [raw],
			size: raw.length,
			fileName: 'message.eml',
			mimeType: 'message/rfc822',
		};
	}
	json.warnings = warnings.toArray();
	return { json, binaries, automatic: classifyAutomatic(json.headers, options.inbox) };
}

function readHeaders(
	raw: Buffer,
	warnings: Warnings,
	bodyExpected: boolean,
): { fields: HeaderField[]; bodyStart: number } {
	const bounds = findHeaderEnd(raw);
	if (bounds.truncated) {
		warnings.add(
			`the header block is longer than ${MAX_HEADER_BLOCK_BYTES} bytes: only its start was read`,
		);
	} else if (!bounds.separatorFound && raw.length > 0 && bodyExpected) {
		// Header bytes alone (headersOnlyItem) need not end with the blank line.
		warnings.add('the message has no blank line after its headers: it has no body');
	}
	const fields = parseHeaderBlock(raw.subarray(0, bounds.headerEnd), warnings);
	if (fields.length === 0 && raw.length > 0) warnings.add('no header fields were found');
	return { fields, bodyStart: bounds.bodyStart };
}

function itemFromHeaders(
	fields: HeaderField[],
	meta: MessageMeta,
	warnings: Warnings,
): MessageItem {
	const rawValues = (name: string): string[] => fieldValues(fields, name, true);
	const dateField = firstField(fields, 'date');
	let date: string | null = null;
	if (dateField) {
		date = parseDate(dateField.value);
		if (date === null) warnings.add(`the Date header ${quote(dateField.value)} could not be read`);
	}
	const fromField = firstField(fields, 'from');
	const from = fromField ? (parseAddresses([fromField.raw])[0] ?? null) : null;
	if (fromField && !from)
		warnings.add(`the From header ${quote(fromField.value)} holds no address`);
	return {
		uid: meta.uid,
		uidValidity: meta.uidValidity ?? '',
		folder: meta.folder,
		messageId: firstMessageId(firstField(fields, 'message-id')?.value),
		inReplyTo: firstMessageId(firstField(fields, 'in-reply-to')?.value),
		references: messageIdList(fieldValues(fields, 'references').join(' ')),
		from,
		to: parseAddresses(rawValues('to')),
		cc: parseAddresses(rawValues('cc')),
		replyTo: parseAddresses(rawValues('reply-to')),
		subject: firstField(fields, 'subject')?.value ?? '',
		date,
		text: '',
		html: null,
		replyText: '',
		attachments: [],
		headers: toHeaderMap(fields),
		flags: [...meta.flags],
		size: meta.size,
		warnings: [],
	};
}
