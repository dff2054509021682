/**
 * From fetched messages to n8n runs: parse, filter, emit one run per message (or per batch),
 * and after a run has finished successfully mark its messages read or move them.
 *
 * When a message cannot be handed over, add() throws and the session tries it again later
 * (nodes/shared/imap/watch/handOver.ts). Two kinds of failure, told apart here:
 * - n8n cannot store its binary data (a full disk, an unreachable bucket): tried again until
 *   the store works, however long, since handing it over without its files would lose them;
 *   one failed execution per outage says so.
 * - turning it into an item throws (a bug, a parser surprise): after
 *   {@link MAX_CONVERSION_ATTEMPTS} tries it is handed over with its headers only and the
 *   failure in `warnings`, with one failed execution, so the mail behind it flows.
 */
import {
	NodeOperationError,
	type IDataObject,
	type INodeExecutionData,
	type IRun,
	type ITriggerFunctions,
} from 'n8n-workflow';

import { toN8nBinary, type ParsedMessage, type ToItemOptions } from '../../shared/mime/item';
import { headersOnlyItem, parseMessage } from '../../shared/mime/toItem';
import type { FetchedMessage } from '../../shared/fetchedMessage';
import { HANDOVER_RETRY_CAP_MS } from '../../shared/imap/watch/handOver';
import type { MailboxSession } from '../../shared/imap/watch/session';
import { settle } from '../../shared/async';
import { errorText } from '../../shared/errors';
import { formatBytes } from '../../shared/format';
import { toTriggerError } from './errors';
import { skipReason, type TriggerFilters } from './filters';

/** What happens to a message once the run it started has succeeded. */
export type AfterRun = { kind: 'markRead' } | { kind: 'nothing' } | { kind: 'move'; to: string };

export interface EmitterSettings {
	parse: ToItemOptions;
	filters: TriggerFilters;
	afterRun: AfterRun;
	/** Messages per run; 1 = one run per message. */
	messagesPerRun: number;
	/** Messages over this are emitted with headers only. */
	maxMessageBytes: number;
}

type Pending = { uid: number; uidValidity: string };

/**
 * Tries of a message whose conversion throws before it is handed over with its headers only:
 * a passing cause (memory pressure) gets a second chance, a bug does not stall the inbox long.
 */
export const MAX_CONVERSION_ATTEMPTS = 3;

function runSucceeded(run: IRun | undefined): boolean {
	if (!run) return false;
	return (
		!run.data?.resultData?.error && !['error', 'crashed', 'canceled'].includes(String(run.status))
	);
}

function metaOf(message: FetchedMessage) {
	return {
		uid: message.uid,
		uidValidity: message.uidValidity,
		folder: message.folder,
		flags: message.flags,
		size: message.size,
	};
}

/** Parses one fetched message (the whole of it, or its headers when it is over the cap). */
async function convert(
	message: FetchedMessage,
	settings: EmitterSettings,
): Promise<ParsedMessage> {
	return message.source
		? await parseMessage(message.source, metaOf(message), settings.parse)
		: headersOnlyItem(
				message.headers,
				metaOf(message),
				`the message is ${formatBytes(message.size)}, over the ${formatBytes(settings.maxMessageBytes)} limit set in the trigger: only its headers were read`,
				settings.parse.inbox,
			);
}

/** The item of a message whose conversion kept failing: its headers, and why. */
function fallbackItem(
	message: FetchedMessage,
	settings: EmitterSettings,
	error: unknown,
): ParsedMessage {
	return headersOnlyItem(
		message.source ?? message.headers,
		metaOf(message),
		`the message could not be converted (${errorText(error)}, ${MAX_CONVERSION_ATTEMPTS} tries): only its headers are given, without attachments`,
		settings.parse.inbox,
	);
}

/** n8n could not store a message's binary data: worth retrying as it is, and what to do. */
function storeError(ctx: ITriggerFunctions, uid: number, cause: unknown): NodeOperationError {
	const message = `n8n could not store the attachments of message ${uid}: ${errorText(cause)}`;
	return toTriggerError(ctx.getNode(), message, {
		verbatim: true,
		description: `The trigger keeps the message and the mail behind it, in order, and tries again every ${HANDOVER_RETRY_CAP_MS / 1000} s at most; they start their runs by themselves once n8n can store binary data again (check the disk or the bucket of n8n's binary data). To let the mail through without its attachments, turn off Options → Download Attachments.`,
	});
}

/** Stores the message's binaries in n8n; throws {@link storeError} when n8n cannot. */
async function store(
	ctx: ITriggerFunctions,
	uid: number,
	parsed: ParsedMessage,
): Promise<INodeExecutionData> {
	const binary: INodeExecutionData['binary'] = {};
	for (const [property, file] of Object.entries(parsed.binaries)) {
		try {
			binary[property] = await ctx.helpers.prepareBinaryData(
				toN8nBinary(file),
				file.fileName,
				file.mimeType,
			);
		} catch (error) {
			throw storeError(ctx, uid, error);
		}
	}
	return {
		json: parsed.json as unknown as IDataObject,
		...(Object.keys(binary).length ? { binary } : {}),
	};
}

/** Turns one fetched message into an item with its binaries stored (test mode's path). */
export async function toItem(
	ctx: ITriggerFunctions,
	message: FetchedMessage,
	settings: EmitterSettings,
): Promise<{ parsed: ParsedMessage; item: INodeExecutionData }> {
	const parsed = await convert(message, settings);
	return { parsed, item: await store(ctx, message.uid, parsed) };
}

/** Collects messages into runs and applies the after-run action when a run succeeds. */
export class RunEmitter {
	private batch: INodeExecutionData[] = [];
	private batchMessages: Pending[] = [];
	/** The message whose conversion throws, and how often it did; one at a time (UID order). */
	private failing?: { key: string; attempts: number };
	/** The binary store has failed since the last message that went through: reported once. */
	private storeDown = false;
	session?: MailboxSession;

	constructor(
		private readonly ctx: ITriggerFunctions,
		private readonly settings: EmitterSettings,
		private readonly folder: string,
	) {}

	/**
	 * Handles one new message: skip it, or add it to the current run. Throws when it could not
	 * be handed over (the session tries it again later).
	 */
	async add(message: FetchedMessage): Promise<void> {
		const { parsed, reason } = await this.convertOrFallBack(message);
		if (reason) {
			this.ctx.logger.debug('AgentMail Trigger skipped a message', { uid: message.uid, reason });
			return;
		}
		const stored = await settle(store(this.ctx, message.uid, parsed));
		if (!stored.ok) {
			// The first failure since the store last worked becomes a failed execution.
			if (!this.storeDown) this.ctx.saveFailedExecution(stored.error as NodeOperationError);
			this.storeDown = true;
			throw stored.error;
		}
		const item = stored.value;
		this.storeDown = false;
		this.batch.push(item);
		this.batchMessages.push({ uid: message.uid, uidValidity: message.uidValidity });
		if (this.batch.length >= this.settings.messagesPerRun) this.flush();
	}

	/**
	 * The message parsed and judged by the filters; after that threw
	 * {@link MAX_CONVERSION_ATTEMPTS} times, its headers.
	 */
	private async convertOrFallBack(
		message: FetchedMessage,
	): Promise<{ parsed: ParsedMessage; reason: string | null }> {
		const key = `${message.uidValidity}:${message.uid}`;
		try {
			const parsed = await convert(message, this.settings);
			const reason = skipReason(parsed, this.settings.filters);
			this.failing = undefined;
			return { parsed, reason };
		} catch (error) {
			const attempts = this.failing?.key === key ? this.failing.attempts + 1 : 1;
			this.failing = { key, attempts };
			if (attempts < MAX_CONVERSION_ATTEMPTS)
				throw new NodeOperationError(this.ctx.getNode(), error as Error);
			this.failing = undefined;
			const summary = `The AgentMail Trigger could not convert message ${message.uid} of ${message.folder} (${message.messageId ?? 'no Message-ID'}): ${errorText(error)}`;
			this.ctx.logger.warn(`${summary}; handed over with its headers only`, {
				uid: message.uid,
			});
			this.ctx.saveFailedExecution(
				new NodeOperationError(this.ctx.getNode(), summary, {
					description: `Tried ${MAX_CONVERSION_ATTEMPTS} times. The message started its run with its headers only and this error in "warnings"; the mail behind it goes on. The message itself is still in the folder, unchanged.`,
				}),
			);
			const parsed = fallbackItem(message, this.settings, error);
			// The headers still tell automatic mail and the user's filters apart.
			return { parsed, reason: skipReason(parsed, this.settings.filters) };
		}
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
	 * key: workflow, trigger node, folder, UIDVALIDITY and UID(s). n8n 1.x's emit takes three
	 * arguments and ignores the key, on purpose left in the call: there the cursor alone keeps
	 * each message to one run (README, "Supported n8n versions").
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
