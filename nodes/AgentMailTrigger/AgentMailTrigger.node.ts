import {
	type IDataObject,
	type INodeType,
	type INodeTypeDescription,
	type ITriggerFunctions,
	type ITriggerResponse,
} from 'n8n-workflow';

import { forInbox, tryParseConnection, type AgentMailConnection } from '../shared/connection';
import { FatalSessionError } from '../shared/errors';
import { fetchNewest } from '../shared/imap/testEvent';
import { selectPlace, type CursorState, type StartFrom } from '../shared/imap/watch/cursor';
import { CREDENTIAL_CHECK_MS } from '../shared/imap/watch/credential';
import { DEFAULT_OUTAGE_REPORT_MS } from '../shared/imap/watch/outage';
import { REFUSED_RETRY_CAP_MS, REFUSED_RETRY_INITIAL_MS } from '../shared/imap/watch/reconnect';
import { MailboxSession } from '../shared/imap/watch/session';
import { agentMailInboxConnectionTest } from '../shared/methods/credentialTest';
import { triggerDescription } from './description';
import { RunEmitter, toItem, type AfterRun, type EmitterSettings } from './helpers/emitter';
import { toTriggerError } from './helpers/errors';
import { listFolders } from '../shared/methods/loadOptions';

const MB = 1024 * 1024;

/** Starts a workflow with each new email of an AgentMail inbox, pushed by IMAP IDLE. */
export class AgentMailTrigger implements INodeType {
	description: INodeTypeDescription = {
		...triggerDescription,
		icon: { light: 'file:../../icons/agentmail.svg', dark: 'file:../../icons/agentmail.dark.svg' },
		subtitle: '={{ "Folder: " + $parameter["folder"] }}',
		credentials: [
			{ name: 'agentMailInboxApi', required: true, testedBy: 'agentMailInboxConnectionTest' },
		],
	};

	methods = {
		credentialTest: { agentMailInboxConnectionTest },
		loadOptions: { listFolders },
	};

	async trigger(this: ITriggerFunctions): Promise<ITriggerResponse> {
		const parsed = tryParseConnection(await this.getCredentials('agentMailInboxApi'));
		if (!parsed.ok) throw toTriggerError(this.getNode(), parsed.message);
		const inbox = this.getNodeParameter('inbox', '') as string;
		let connection: AgentMailConnection;
		try {
			connection = forInbox(parsed.connection, inbox);
		} catch (error) {
			throw toTriggerError(this.getNode(), error);
		}
		const folder = String(this.getNodeParameter('folder', 'INBOX')).trim() || 'INBOX';
		const options = this.getNodeParameter('options', {}) as IDataObject;
		const afterRunKind = this.getNodeParameter('afterRun', 'markRead') as string;
		const afterRun: AfterRun =
			afterRunKind === 'move'
				? { kind: 'move', to: String(this.getNodeParameter('moveTo', 'Trash')) }
				: afterRunKind === 'nothing'
					? { kind: 'nothing' }
					: { kind: 'markRead' };
		const maxMessageBytes = Math.floor(Number(options.maxMessageMb ?? 40) * MB);
		const settings: EmitterSettings = {
			parse: {
				attachments: options.attachments !== false,
				includeInline: options.includeInline === true,
				includeRaw: options.includeRaw === true,
				binaryPrefix: String(options.binaryPrefix ?? 'attachment_'),
				maxAttachmentBytes: Math.floor(Number(options.maxAttachmentMb ?? 25) * MB),
				inbox: connection.email,
			},
			filters: this.getNodeParameter('filters', {}) as IDataObject,
			afterRun,
			batchSize:
				this.getNodeParameter('runMode', 'perMessage') === 'batch'
					? Math.max(1, Number(this.getNodeParameter('batchSize', 20)))
					: 1,
			maxMessageBytes,
		};

		if (this.getMode() === 'manual') {
			// "Fetch test event": the newest message, read-only; no watermark, no flags.
			const manualTriggerFunction = async () => {
				const fetched = await fetchNewest(connection, folder, { maxMessageBytes }).then(
					(message) => ({ message }),
					(error: Error) => ({ error }),
				);
				if ('error' in fetched) throw toTriggerError(this.getNode(), fetched.error);
				const message = fetched.message;
				if (!message) {
					throw toTriggerError(this.getNode(), `No message arrived in ${folder} while waiting.`);
				}
				const { item } = await toItem(this, message, settings);
				this.emit([[item]]);
			};
			return { manualTriggerFunction };
		}

		const emitter = new RunEmitter(this, settings, folder);
		const cursorState = this.getWorkflowStaticData('node') as CursorState;
		// Each inbox and folder has its own place: pointing the trigger elsewhere and back
		// neither replays nor skips mail of either.
		selectPlace(cursorState, connection.email, folder, parsed.connection.email);
		const session = new MailboxSession({
			connection,
			folder,
			cursorState,
			startFrom: this.getNodeParameter('startFrom', 'new') as StartFrom,
			maxMessageBytes,
			livenessWindowMs: Number(options.livenessSeconds ?? 60) * 1000,
			logger: this.logger,
			onMessage: async (message) => await emitter.add(message),
			onCaughtUp: () => emitter.flush(),
			onFatal: (error) => this.emitError(toTriggerError(this.getNode(), error)),
			// Not emitError: n8n 2.40 retries re-activating a failed trigger 5 times within about
			// 15 s and then never again, so a key revoked for longer would stop the trigger for
			// good. A failed execution tells the user (and runs the error workflow) instead.
			onRefused: (error) =>
				this.saveFailedExecution(
					toTriggerError(this.getNode(), error, {
						description: `The trigger stays active and tries again after ${REFUSED_RETRY_INITIAL_MS / 1000} s, then less and less often (at least every ${REFUSED_RETRY_CAP_MS / 60_000} minutes), and within ${CREDENTIAL_CHECK_MS / 1000} s of the credential's API key being changed; it picks up the mail that arrived meanwhile once the login works again.`,
					}),
				),
			// n8n does not re-activate an active trigger when its credential is edited.
			reloadConnection: async () => {
				const reloaded = tryParseConnection(await this.getCredentials('agentMailInboxApi'));
				if (!reloaded.ok) throw toTriggerError(this.getNode(), reloaded.message);
				return forInbox(reloaded.connection, inbox);
			},
			outageReportMs:
				Math.max(0, Number(options.outageMinutes ?? DEFAULT_OUTAGE_REPORT_MS / 60_000)) * 60_000,
			onOutage: (message) => {
				this.saveFailedExecution(
					toTriggerError(this.getNode(), message, {
						description:
							'The workflow stays active. Check that this n8n server can reach the IMAP host (network, firewall, DNS) and whether AgentMail reports an incident. Options → Report Outage After sets how long an outage lasts before it is reported.',
						verbatim: true,
					}),
				);
			},
		});
		emitter.session = session;
		const started = await session.start().then(
			() => null,
			(error: unknown) => error,
		);
		if (started instanceof FatalSessionError) {
			throw toTriggerError(this.getNode(), started);
		}
		return {
			closeFunction: async () => {
				emitter.flush();
				await session.stop();
			},
		};
	}
}
