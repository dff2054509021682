/**
 * From fetched messages to n8n runs: parse, filter, emit one run per message (or per batch),
 * and after a run has finished successfully mark its messages read or move them.
 */
import { Readable } from 'node:stream';

import type { IDataObject, INodeExecutionData, IRun, ITriggerFunctions } from 'n8n-workflow';

import {
	headersOnlyItem,
	parseMessage,
	type MessageBinary,
	type ParsedMessage,
	type ToItemOptions,
} from '../../shared/mime/toItem';
import type { FetchedMessage, MailboxSession } from '../../shared/imap/session';
import { formatBytes } from '../../shared/smtp/limits';
import { skipReason, type MessageFilters } from './filters';

/** What happens to a message once the run it started has succeeded. */
export type AfterRun = { kind: 'markRead' } | { kind: 'nothing' } | { kind: 'move'; to: string };

export interface EmitterSettings {
	parse: ToItemOptions;
	filters: MessageFilters;
	afterRun: AfterRun;
	/** Messages per run; 1 = one run per message. */
	batchSize: number;
	/** Messages over this are emitted with headers only. */
	maxMessageBytes: number;
}

type Pending = { uid: number; uidValidity: string };

/**
 * What n8n stores a binary from. A file in pieces goes as a stream of them: n8n's filesystem
 * mode writes it to disk piece by piece (its other modes join the pieces themselves), where a
 * Buffer joined here would hold a 10 MB attachment twice for a moment.
 */
function binarySource(file: MessageBinary): Buffer | Readable {
	if (file.chunks.length === 0) return Buffer.alloc(0);
	if (file.chunks.length === 1) return file.chunks[0];
	return Readable.from(file.chunks, { objectMode: false });
}

function runSucceeded(run: IRun | undefined): boolean {
	if (!run) return false;
	return (
		!run.data?.resultData?.error && !['error', 'crashed', 'canceled'].includes(String(run.status))
	);
}

/** Turns one fetched message into an item (never throws). */
export async function toItem(
	ctx: ITriggerFunctions,
	message: FetchedMessage,
	settings: EmitterSettings,
): Promise<{ parsed: ParsedMessage; item: INodeExecutionData }> {
	const meta = {
		uid: message.uid,
		folder: message.folder,
		flags: message.flags,
		size: message.size,
	};
	const parsed = message.source
		? await parseMessage(message.source, meta, settings.parse)
		: headersOnlyItem(
				message.headers,
				meta,
				`the message is ${formatBytes(message.size)}, over the ${formatBytes(settings.maxMessageBytes)} limit set in the trigger: only its headers were read`,
				settings.parse.inbox,
			);
	const binary: INodeExecutionData['binary'] = {};
	for (const [property, file] of Object.entries(parsed.binaries)) {
		binary[property] = await ctx.helpers.prepareBinaryData(
			binarySource(file),
			file.fileName,
			file.mimeType,
		);
	}
	return {
		parsed,
		item: {
			json: parsed.json as unknown as IDataObject,
			...(Object.keys(binary).length ? { binary } : {}),
		},
	};
}

/** Collects messages into runs and applies the after-run action when a run succeeds. */
export class RunEmitter {
	private batch: INodeExecutionData[] = [];
	private batchMessages: Pending[] = [];
	session?: MailboxSession;

	constructor(
		private readonly ctx: ITriggerFunctions,
		private readonly settings: EmitterSettings,
		private readonly folder: string,
	) {}

	/** Handles one new message: skip it, or add it to the current run. */
	async add(message: FetchedMessage): Promise<void> {
		const { parsed, item } = await toItem(this.ctx, message, this.settings);
		const reason = skipReason(parsed, this.settings.filters);
		if (reason) {
			this.ctx.logger.debug('AgentMail Trigger skipped a message', { uid: message.uid, reason });
			return;
		}
		this.batch.push(item);
		this.batchMessages.push({ uid: message.uid, uidValidity: message.uidValidity });
		if (this.batch.length >= this.settings.batchSize) this.flush();
	}

	/** Emits what has been collected as one run. */
	flush(): void {
		if (this.batch.length === 0) return;
		const items = this.batch;
		const messages = this.batchMessages;
		this.batch = [];
		this.batchMessages = [];
		const key = this.deduplicationKey(messages);
		if (this.settings.afterRun.kind === 'nothing') {
			this.ctx.emit([items], undefined, undefined, key);
			return;
		}
		const done = this.ctx.helpers.createDeferredPromise<IRun>();
		this.ctx.emit([items], undefined, done, key);
		done.promise.then(
			(run: IRun) => this.afterRun(run, messages),
			(error: Error) =>
				this.ctx.logger.warn(
					'AgentMail Trigger: the run did not report back; its messages stay unread',
					{ error: error?.message },
				),
		);
	}

	/**
	 * n8n (2.40+) refuses a second run with the same key: a safety net behind the cursor, should
	 * a message ever be handed over twice (e.g. static data lost in a crash). One message, one
	 * key: workflow, trigger node, folder, UIDVALIDITY and UID(s).
	 */
	private deduplicationKey(messages: Pending[]): string {
		const workflow = this.ctx.getWorkflow().id ?? 'unsaved';
		const node = this.ctx.getNode().id;
		const first = messages[0];
		const uids = messages.map((m) => m.uid).join(',');
		return `agentmail:${workflow}:${node}:${this.folder}:${first.uidValidity}:${uids}`;
	}

	private async afterRun(run: IRun | undefined, messages: Pending[]): Promise<void> {
		if (!runSucceeded(run)) {
			// A failed run leaves its messages as they were (unread), so nothing is lost from view.
			this.ctx.logger.info('AgentMail Trigger: the run failed; its messages are left unread', {
				uids: messages.map((m) => m.uid),
			});
			return;
		}
		const session = this.session;
		if (!session) return;
		const action = this.settings.afterRun;
		// One command per run (a UID set) rather than one per message.
		const byValidity = new Map<string, number[]>();
		for (const { uid, uidValidity } of messages) {
			byValidity.set(uidValidity, [...(byValidity.get(uidValidity) ?? []), uid]);
		}
		for (const [uidValidity, uids] of byValidity) {
			if (action.kind === 'markRead') await session.markSeen(uids, uidValidity);
			else if (action.kind === 'move') await session.move(uids, uidValidity, action.to);
		}
	}
}
