/**
 * Runs the chosen operation over all items: the operations that send go through one SMTP
 * session per inbox (helpers/smtpRun.ts), the others through one IMAP connection per inbox
 * (helpers/imapRun.ts). Only the one the operation needs is opened.
 */
import { NodeOperationError, type IExecuteFunctions, type INodeExecutionData } from 'n8n-workflow';

import { runImap } from '../helpers/imapRun';
import type { ImapOperation, SmtpOperation } from '../helpers/interfaces';
import { runSmtp } from '../helpers/smtpRun';
import * as folder from './folder/Folder.resource';
import * as inbox from './inbox/Inbox.resource';
import * as message from './message/Message.resource';
import * as thread from './thread/Thread.resource';
import type { OperationKey } from './node.type';

type Runner = (ctx: IExecuteFunctions) => Promise<INodeExecutionData[][]>;

// Send, Reply and Forward output what Sent shows of each message (Send and Wait runs its own way).
const smtp =
	(operation: SmtpOperation): Runner =>
	async (ctx) =>
		await runSmtp.call(ctx, { ...operation, readBackSent: true });

const imap =
	(operation: ImapOperation): Runner =>
	async (ctx) =>
		await runImap.call(ctx, operation);

/** Every operation of node.type.ts, and how it runs. */
const runners: Record<OperationKey, Runner> = {
	'message:send': smtp(message.send),
	'message:reply': smtp(message.reply),
	'message:forward': smtp(message.forward),
	'message:sendAndWait': async (ctx) => await message.sendAndWait.run.call(ctx),
	'message:getMany': imap(message.getMany),
	'message:get': imap(message.get),
	'message:markRead': imap(message.markRead),
	'message:markUnread': imap(message.markUnread),
	'message:flag': imap(message.flag),
	'message:unflag': imap(message.unflag),
	'message:move': imap(message.move),
	'message:delete': imap(message.delete),
	'folder:getMany': imap(folder.getMany),
	'thread:get': imap(thread.get),
	'inbox:checkCapabilities': imap(inbox.checkCapabilities),
};

export async function router(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const resource = this.getNodeParameter('resource', 0) as string;
	const operation = this.getNodeParameter('operation', 0) as string;
	const run = runners[`${resource}:${operation}` as OperationKey];
	if (!run) {
		throw new NodeOperationError(
			this.getNode(),
			`The operation "${operation}" of "${resource}" is not supported.`,
		);
	}
	return await run(this);
}
