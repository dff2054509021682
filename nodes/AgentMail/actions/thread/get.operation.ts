/**
 * Thread → Get: the whole conversation a message belongs to, across INBOX and Sent (or the
 * folders chosen), oldest first, each message as Message → Get gives it; by default as one
 * item holding them all, so that the nodes after it run once per conversation.
 */
import {
	updateDisplayOptions,
	type IDataObject,
	type IExecuteFunctions,
	type INodeProperties,
} from 'n8n-workflow';

import { InputError, ServerError } from '../../../shared/errors';
import type { InboxClient } from '../../../shared/imap/inbox';
import { messageIdOrNull } from '../../../shared/imap/locate';
import { findThread, type ThreadMember, type ThreadSeed } from '../../../shared/imap/thread';
import { messageIdList } from '../../../shared/mime/headers';
import type { ImapResult } from '../../helpers/interfaces';
import { outputProperties } from '../common.descriptions';
import { readMessages } from '../readMessages';

const properties: INodeProperties[] = [
	{
		displayName: 'Message',
		name: 'messageFrom',
		type: 'options',
		options: [
			{
				name: 'Input Item (From AgentMail Trigger, Get or Get Many)',
				value: 'inputItem',
				description: 'Reads messageId, inReplyTo and references from the input item',
			},
			{ name: 'By Message-ID', value: 'messageId', description: 'The Message-ID header' },
		],
		default: 'inputItem',
		description: 'A message of the conversation to get; any message of it will do',
	},
	{
		displayName: 'Message-ID',
		name: 'messageId',
		type: 'string',
		required: true,
		default: '',
		placeholder: '<abc@agentmail.to>',
		description: 'The Message-ID header of a message of the conversation',
		displayOptions: { show: { messageFrom: ['messageId'] } },
	},
	{
		displayName: 'Output Items',
		name: 'threadOutput',
		type: 'options',
		options: [
			{
				name: 'One Item With All Messages',
				value: 'thread',
				description:
					'One item per conversation: "messages" (oldest first), "count" and "truncated". The nodes after this one run once.',
			},
			{
				name: 'One Item per Message',
				value: 'messages',
				description: 'Each message of the conversation as its own item, oldest first',
			},
		],
		default: 'thread',
	},
	...outputProperties,
	{
		displayName: 'Max Messages',
		name: 'maxMessages',
		type: 'number',
		// Full items of a whole conversation are held in one item: half of Return All's 1,000.
		typeOptions: { minValue: 1, maxValue: 500 },
		default: 50,
		description:
			'The most messages to return: of a longer conversation the newest ones, still oldest first, and "truncated" is true',
	},
	{
		displayName: 'Folders Names or IDs',
		name: 'folders',
		type: 'multiOptions',
		typeOptions: { loadOptionsMethod: 'listFolders' },
		default: [],
		description:
			'Where to look for the conversation’s messages. Empty: INBOX and Sent. Choose from the list, or specify IDs using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
	},
];

const displayOptions = { show: { resource: ['thread'], operation: ['get'] } };

export const description = updateDisplayOptions(displayOptions, properties);

/** The message whose conversation item `i` asks for. @throws InputError when it names none. */
function readSeed(ctx: IExecuteFunctions, i: number): ThreadSeed {
	if (ctx.getNodeParameter('messageFrom', i, 'inputItem') === 'messageId') {
		const messageId = messageIdOrNull(ctx.getNodeParameter('messageId', i, ''));
		if (!messageId) throw new InputError("Message-ID is empty: enter a message's Message-ID.");
		return { messageId };
	}
	const json: IDataObject = ctx.getInputData()[i]?.json ?? {};
	const messageId = messageIdOrNull(json.messageId);
	if (!messageId) {
		throw new InputError(
			'The input item has no "messageId": put the AgentMail Trigger or Message → Get Many before this node, or set Message to By Message-ID.',
		);
	}
	const references = Array.isArray(json.references)
		? json.references.map(String).join(' ')
		: String(json.references ?? '');
	return {
		messageId,
		inReplyTo: messageIdOrNull(json.inReplyTo),
		references: messageIdList(references),
	};
}

/** The folders to look in, as the server names them: the chosen ones, else INBOX and Sent. */
async function foldersToSearch(
	ctx: IExecuteFunctions,
	i: number,
	inbox: InboxClient,
): Promise<string[]> {
	const chosen = (ctx.getNodeParameter('folders', i, []) as string[]).filter(Boolean);
	if (chosen.length) {
		const paths = await Promise.all(chosen.map(async (name) => await inbox.resolveFolder(name)));
		return [...new Set(paths)];
	}
	// An inbox without a Sent folder still has its INBOX conversation.
	const sent = await inbox.specialFolder('\\Sent', 'Sent').catch(() => null);
	return sent ? ['INBOX', sent] : ['INBOX'];
}

/** The members as output items, read per folder and put back in thread order. */
async function readMembers(
	ctx: IExecuteFunctions,
	i: number,
	inbox: InboxClient,
	members: ThreadMember[],
): Promise<ImapResult> {
	const byPlace = new Map<string, ImapResult[number]>();
	for (const folder of new Set(members.map((m) => m.folder))) {
		const selected = await inbox.select(folder);
		const uids = members.filter((m) => m.folder === folder).map((m) => m.uid);
		for (const item of await readMessages(ctx, i, inbox, selected, uids)) {
			byPlace.set(`${folder}:${String(item.json.uid)}`, item);
		}
	}
	// A message moved or deleted between the search and the read is left out.
	return members.flatMap((m) => byPlace.get(`${m.folder}:${m.uid}`) ?? []);
}

/**
 * All messages in one item. Binary properties get the message's place in front
 * (`message0_attachment_0`), since two messages may both have an `attachment_0`.
 */
function asOneItem(messages: ImapResult, summary: IDataObject): ImapResult[number] {
	const binary: NonNullable<ImapResult[number]['binary']> = {};
	const jsons = messages.map(({ json, binary: files }, k) => {
		if (!files) return json;
		const renamed = (property: unknown) =>
			property ? `message${k}_${String(property)}` : property;
		for (const [property, file] of Object.entries(files))
			binary[renamed(property) as string] = file;
		const attachments = Array.isArray(json.attachments)
			? (json.attachments as IDataObject[]).map((a) => ({
					...a,
					binaryProperty: renamed(a.binaryProperty) ?? null,
				}))
			: json.attachments;
		return { ...json, attachments };
	});
	return {
		json: { ...summary, messages: jsons },
		...(Object.keys(binary).length ? { binary } : {}),
	};
}

export async function execute(
	this: IExecuteFunctions,
	i: number,
	inbox: InboxClient,
): Promise<ImapResult> {
	const seed = readSeed(this, i);
	const folders = await foldersToSearch(this, i, inbox);
	const found = await findThread(inbox, seed, folders);
	if (found.members.length === 0) {
		throw new ServerError(
			`No message of the conversation of ${seed.messageId} is in ${folders.map((f) => `"${f}"`).join(' or ')} of ${inbox.address}. Nothing was read: check the Message-ID, or add the folder it was moved to under Folders.`,
		);
	}
	const limit = Math.max(1, Math.floor(Number(this.getNodeParameter('maxMessages', i, 50)) || 1));
	const chosen = found.members.slice(-limit);
	const messages = await readMembers(this, i, inbox, chosen);
	if (this.getNodeParameter('threadOutput', i, 'thread') === 'messages') return messages;
	return [
		asOneItem(messages, {
			messageId: seed.messageId,
			subject: messages[0]?.json.subject ?? '',
			count: messages.length,
			// More were found than the Limit gives, or a bound stopped the search early.
			truncated: found.members.length > chosen.length || !found.complete,
			folders,
		}),
	];
}
