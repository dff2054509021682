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
import type { AgentMailType } from './node.type';

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

/** Each resource of node.type.ts with all its operations: a missing one fails to compile. */
type Runners = { [E in AgentMailType as E['resource']]: Record<E['operation'], Runner> };

const runners: Runners = {
	message: {
		send: smtp(message.send),
		reply: smtp(message.reply),
		forward: smtp(message.forward),
		sendAndWait: async (ctx) => await message.sendAndWait.run.call(ctx),
		getMany: imap(message.getMany),
		get: imap(message.get),
		markRead: imap(message.markRead),
		markUnread: imap(message.markUnread),
		flag: imap(message.flag),
		unflag: imap(message.unflag),
		move: imap(message.move),
		delete: imap(message.delete),
	},
	folder: { getMany: imap(folder.getMany) },
	thread: { get: imap(thread.get) },
	inbox: { checkCapabilities: imap(inbox.checkCapabilities) },
};

/** How `operation` of `resource` runs. Own keys only: "constructor" is no operation. */
function runnerOf(resource: string, operation: string): Runner | undefined {
	const table: Record<string, Record<string, Runner>> = runners;
	if (!Object.hasOwn(table, resource) || !Object.hasOwn(table[resource], operation)) return;
	return table[resource][operation];
}

export async function router(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const resource = this.getNodeParameter('resource', 0) as string;
	const operation = this.getNodeParameter('operation', 0) as string;
	const run = runnerOf(resource, operation);
	if (!run) {
		throw new NodeOperationError(
			this.getNode(),
			`The operation "${operation}" of "${resource}" is not supported.`,
		);
	}
	return await run(this);
}
