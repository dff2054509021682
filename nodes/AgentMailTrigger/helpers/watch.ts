/**
 * The trigger at work: its session on the inbox, handing each new message to the run emitter,
 * and its test event ("Fetch test event": the newest message, read-only).
 */
import type { ITriggerFunctions, ITriggerResponse } from 'n8n-workflow';

import { FatalSessionError } from '../../shared/errors';
import { fetchNewest } from '../../shared/imap/testEvent';
import { CREDENTIAL_CHECK_MS } from '../../shared/imap/watch/credential';
import { selectPlace, type CursorState } from '../../shared/imap/watch/cursor';
import { REFUSED_RETRY_CAP_MS, REFUSED_RETRY_INITIAL_MS } from '../../shared/imap/watch/reconnect';
import { MailboxSession } from '../../shared/imap/watch/session';
import { offerReplyOnce } from '../../shared/sendAndWait/replyHandOff';
import { registerReplyWatcher } from '../../shared/sendAndWait/replyWatchers';
import { RunEmitter, toItem } from './emitter';
import { toTriggerError } from './errors';
import { readConnection, type TriggerSettings } from './settings';

/** The newest message of the folder as one item; no watermark, no flags. */
export function testEvent(ctx: ITriggerFunctions, settings: TriggerSettings): () => Promise<void> {
	const { connection, folder, emitter } = settings;
	return async () => {
		const fetched = await fetchNewest(connection, folder, {
			maxMessageBytes: emitter.maxMessageBytes,
		}).then(
			(message) => ({ message }),
			(error: Error) => ({ error }),
		);
		if ('error' in fetched) throw toTriggerError(ctx.getNode(), fetched.error);
		const message = fetched.message;
		if (!message) {
			throw toTriggerError(ctx.getNode(), `No message arrived in ${folder} while waiting.`);
		}
		const { item } = await toItem(ctx, message, emitter);
		ctx.emit([[item]]);
	};
}

/** Starts watching the folder; resolves once the session runs or retries in the background. */
export async function watch(
	ctx: ITriggerFunctions,
	settings: TriggerSettings,
): Promise<ITriggerResponse> {
	const { connection, folder } = settings;
	const node = ctx.getNode();
	const emitter = new RunEmitter(ctx, settings.emitter, folder);
	const cursorState = ctx.getWorkflowStaticData('node') as CursorState;
	// Each inbox and folder has its own place: pointing the trigger elsewhere and back
	// neither replays nor skips mail of either.
	selectPlace(cursorState, connection.email, folder, settings.credentialInbox);
	const session = new MailboxSession({
		connection,
		folder,
		cursorState,
		startFrom: settings.startFrom,
		maxMessageBytes: settings.emitter.maxMessageBytes,
		livenessWindowMs: settings.livenessWindowMs,
		pollIntervalMs: settings.pollIntervalMs,
		logger: ctx.logger,
		// A reply to a Send and Wait question goes to its execution first (before the filters),
		// and starts a run here only when that execution did not take it.
		onMessage: async (message) => {
			const offer = { logger: ctx.logger, env: process.env, apiKey: connection.apiKey };
			const inbox = `${connection.imapHost}|${connection.email}`;
			if ((await offerReplyOnce(message, inbox, offer)) === 'taken') return;
			await emitter.add(message);
		},
		onCaughtUp: () => emitter.flush(),
		onFatal: (error) => ctx.emitError(toTriggerError(node, error)),
		// Not emitError: n8n 2.40 retries re-activating a failed trigger 5 times within about
		// 15 s and then never again, so a key revoked for longer would stop the trigger for
		// good. A failed execution tells the user (and runs the error workflow) instead.
		onRefused: (error) =>
			ctx.saveFailedExecution(
				toTriggerError(node, error, {
					description: `The trigger stays active and tries again after ${REFUSED_RETRY_INITIAL_MS / 1000} s, then less and less often (at least every ${REFUSED_RETRY_CAP_MS / 60_000} minutes), and within ${CREDENTIAL_CHECK_MS / 1000} s of the credential's API key being changed; it picks up the mail that arrived meanwhile once the login works again.`,
				}),
			),
		// n8n does not re-activate an active trigger when its credential is edited.
		reloadConnection: async () => (await readConnection(ctx)).connection,
		outageReportMs: settings.outageReportMs,
		onOutage: (message) =>
			ctx.saveFailedExecution(
				toTriggerError(node, message, {
					description:
						'The workflow stays active. Check that this n8n server can reach the IMAP host (network, firewall, DNS) and whether AgentMail reports an incident. Options → Report Outage After sets how long an outage lasts before it is reported.',
					verbatim: true,
				}),
			),
	});
	emitter.session = session;
	const started = await session.start().then(
		() => null,
		(error: unknown) => error,
	);
	if (started instanceof FatalSessionError) throw toTriggerError(node, started);
	// Send and Wait's Reply by Email asks only when a trigger here sees the replies.
	const unregister =
		folder === 'INBOX'
			? registerReplyWatcher(connection.imapHost, connection.email, connection.apiKey)
			: () => {};
	return {
		closeFunction: async () => {
			unregister();
			emitter.flush();
			await session.stop();
		},
	};
}
