/** The trigger's settings, read from its credential and parameters in one place. */
import type { IDataObject, ITriggerFunctions } from 'n8n-workflow';

import { forInbox, tryParseConnection, type AgentMailConnection } from '../../shared/connection';
import { MB } from '../../shared/format';
import { DEFAULT_MAX_MESSAGE_BYTES } from '../../shared/imap/messages';
import type { StartFrom } from '../../shared/imap/watch/cursor';
import { DEFAULT_LIVENESS_WINDOW_MS } from '../../shared/imap/watch/liveness';
import { DEFAULT_OUTAGE_REPORT_MS } from '../../shared/imap/watch/outage';
import { pollIntervalMs } from '../../shared/imap/watch/poll';
import { DEFAULT_BINARY_PREFIX, DEFAULT_MAX_ATTACHMENT_BYTES } from '../../shared/mime/limits';
import type { AfterRun, EmitterSettings } from './emitter';
import { toTriggerError } from './errors';

/** Messages per run when Run Mode is Batch and no size is given. */
const DEFAULT_MESSAGES_PER_RUN = 20;

export interface TriggerSettings {
	/** The inbox watched: the node's Inbox Address, else the credential's. */
	connection: AgentMailConnection;
	/** The credential's own inbox, which the cursor's first place was kept under. */
	credentialInbox: string;
	folder: string;
	startFrom: StartFrom;
	emitter: EmitterSettings;
	livenessWindowMs: number;
	outageReportMs: number;
	/** How often a server without IDLE is asked for new mail. */
	pollIntervalMs: number;
}

/**
 * The connection of the inbox the trigger watches, read from the credential again (n8n does
 * not re-activate an active trigger when its credential is edited).
 */
export async function readConnection(
	ctx: ITriggerFunctions,
): Promise<{ connection: AgentMailConnection; credentialInbox: string }> {
	const parsed = tryParseConnection(await ctx.getCredentials('agentMailInboxApi'));
	if (!parsed.ok) throw toTriggerError(ctx.getNode(), parsed.message);
	try {
		const connection = forInbox(parsed.connection, ctx.getNodeParameter('inbox', '') as string);
		return { connection, credentialInbox: parsed.connection.email };
	} catch (error) {
		throw toTriggerError(ctx.getNode(), error);
	}
}

function readAfterRun(ctx: ITriggerFunctions): AfterRun {
	const kind = ctx.getNodeParameter('afterRun', 'markRead') as string;
	if (kind === 'move') return { kind: 'move', to: String(ctx.getNodeParameter('moveTo', 'Trash')) };
	return kind === 'nothing' ? { kind: 'nothing' } : { kind: 'markRead' };
}

/** Everything the trigger is set to, checked; throws an n8n error for a bad credential. */
export async function readSettings(ctx: ITriggerFunctions): Promise<TriggerSettings> {
	const { connection, credentialInbox } = await readConnection(ctx);
	const options = ctx.getNodeParameter('options', {}) as IDataObject;
	const maxMessageBytes = Math.floor(
		Number(options.maxMessageMb ?? DEFAULT_MAX_MESSAGE_BYTES / MB) * MB,
	);
	return {
		connection,
		credentialInbox,
		folder: String(ctx.getNodeParameter('folder', 'INBOX')).trim() || 'INBOX',
		startFrom: ctx.getNodeParameter('startFrom', 'new') as StartFrom,
		emitter: {
			parse: {
				attachments: options.attachments !== false,
				includeInline: options.includeInline === true,
				includeRaw: options.includeRaw === true,
				binaryPrefix: String(options.binaryPrefix ?? DEFAULT_BINARY_PREFIX),
				maxAttachmentBytes: Math.floor(
					Number(options.maxAttachmentMb ?? DEFAULT_MAX_ATTACHMENT_BYTES / MB) * MB,
				),
				inbox: connection.email,
			},
			filters: ctx.getNodeParameter('filters', {}) as IDataObject,
			afterRun: readAfterRun(ctx),
			messagesPerRun:
				ctx.getNodeParameter('runMode', 'perMessage') === 'batch'
					? Math.max(1, Number(ctx.getNodeParameter('batchSize', DEFAULT_MESSAGES_PER_RUN)))
					: 1,
			maxMessageBytes,
		},
		livenessWindowMs: Number(options.livenessSeconds ?? DEFAULT_LIVENESS_WINDOW_MS / 1000) * 1000,
		outageReportMs:
			Math.max(0, Number(options.outageMinutes ?? DEFAULT_OUTAGE_REPORT_MS / 60_000)) * 60_000,
		pollIntervalMs: pollIntervalMs(options.pollSeconds),
	};
}
