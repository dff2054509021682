import {
	NodeConnectionTypes,
	NodeOperationError,
	type IDataObject,
	type INodeType,
	type INodeTypeDescription,
	type ITriggerFunctions,
	type ITriggerResponse,
} from 'n8n-workflow';

import { CredentialError, forInbox, tryParseConnection } from '../shared/connection';
import { fetchNewest } from '../shared/imap/browse';
import { selectPlace, type CursorState, type StartFrom } from '../shared/imap/cursor';
import { FatalSessionError, MailboxSession, RECONNECT_SLOW_CAP_MS } from '../shared/imap/session';
import { agentMailInboxConnectionTest } from '../shared/methods/credentialTest';
import { inboxAddressProperty } from '../shared/methods/properties';
import { RunEmitter, toItem, type AfterRun, type EmitterSettings } from './helpers/emitter';
import { listFolders } from '../shared/methods/loadOptions';

const MB = 1024 * 1024;

/** Starts a workflow with each new email of an AgentMail inbox, pushed by IMAP IDLE. */
export class AgentMailTrigger implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'AgentMail Trigger',
		name: 'agentMailTrigger',
		icon: { light: 'file:../../icons/agentmail.svg', dark: 'file:../../icons/agentmail.dark.svg' },
		group: ['trigger'],
		version: 1,
		subtitle: '={{ "Folder: " + $parameter["folder"] }}',
		description: 'Starts the workflow when an email arrives in an AgentMail inbox (IMAP IDLE)',
		eventTriggerDescription: 'Waiting for an email to arrive',
		hints: [
			{
				message:
					'"After the Run" acts only once the run a message started has finished successfully; a failed run leaves the message unread.',
				type: 'info',
				location: 'outputPane',
				whenToDisplay: 'always',
			},
		],
		defaults: { name: 'AgentMail Trigger' },
		inputs: [],
		outputs: [NodeConnectionTypes.Main],
		credentials: [
			{ name: 'agentMailInboxApi', required: true, testedBy: 'agentMailInboxConnectionTest' },
		],
		properties: [
			inboxAddressProperty(
				"Another inbox the credential's API key may open, so one credential serves many inboxes. Empty: the credential's inbox. The trigger keeps its place in each inbox and folder separately.",
			),
			{
				displayName: 'Folder Name or ID',
				name: 'folder',
				type: 'options',
				typeOptions: { loadOptionsMethod: 'listFolders' },
				default: 'INBOX',
				description:
					'Folder to watch. Choose from the list, or specify an ID using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
			},
			{
				displayName: 'Start From',
				name: 'startFrom',
				type: 'options',
				options: [
					{
						name: 'New Mail Only',
						value: 'new',
						description: 'Mail arriving after the first activation',
					},
					{
						name: 'New Mail and Unread Mail Already There',
						value: 'unread',
						description: 'Also the unread mail in the folder at the first activation',
					},
					{
						name: 'Everything in the Folder',
						value: 'all',
						description: 'Also every message in the folder at the first activation',
					},
				],
				default: 'new',
				description:
					'What the first activation takes. After that, every message that arrives starts one run, also mail that arrived while the workflow was off.',
			},
			{
				displayName: 'After the Run',
				name: 'afterRun',
				type: 'options',
				options: [
					{ name: 'Mark as Read', value: 'markRead' },
					{ name: 'Do Nothing', value: 'nothing' },
					{ name: 'Move to Folder', value: 'move' },
				],
				default: 'markRead',
				description: 'Done only when the run the message started succeeded',
			},
			{
				displayName: 'Move To Name or ID',
				name: 'moveTo',
				type: 'options',
				typeOptions: { loadOptionsMethod: 'listFolders' },
				default: 'Trash',
				description:
					'Folder to move handled messages to. Choose from the list, or specify an ID using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
				displayOptions: { show: { afterRun: ['move'] } },
			},
			{
				displayName: 'Runs',
				name: 'runMode',
				type: 'options',
				options: [
					{ name: 'One Run per Message', value: 'perMessage' },
					{ name: 'Up to N Messages per Run', value: 'batch' },
				],
				default: 'perMessage',
			},
			{
				displayName: 'Messages per Run',
				name: 'batchSize',
				type: 'number',
				typeOptions: { minValue: 1, maxValue: 500 },
				default: 20,
				displayOptions: { show: { runMode: ['batch'] } },
			},
			{
				displayName: 'Filters',
				name: 'filters',
				type: 'collection',
				placeholder: 'Add Filter',
				default: {},
				options: [
					{
						displayName: 'Ignore Automatic Mail',
						name: 'ignoreAutomatic',
						type: 'boolean',
						default: true,
						description:
							'Whether to skip mail from this inbox itself, auto-replies (Auto-Submitted), bulk or list mail (Precedence) and bounces, so an auto-reply workflow cannot loop',
					},
					{
						displayName: 'Senders',
						name: 'senders',
						type: 'string',
						default: '',
						placeholder: 'jane@example.com, @example.org',
						description: 'Only mail from these addresses or @domains, separated by commas',
					},
					{
						displayName: 'Subject Contains',
						name: 'subjectContains',
						type: 'string',
						default: '',
					},
					{
						displayName: 'Unread Only',
						name: 'unreadOnly',
						type: 'boolean',
						default: false,
						description: 'Whether to skip messages that are already read when they are found',
					},
				],
			},
			{
				displayName: 'Options',
				name: 'options',
				type: 'collection',
				placeholder: 'Add Option',
				default: {},
				options: [
					{
						displayName: 'Attachment Property Prefix',
						name: 'binaryPrefix',
						type: 'string',
						default: 'attachment_',
					},
					{
						displayName: 'Connection Check (Seconds)',
						name: 'livenessSeconds',
						type: 'number',
						typeOptions: { minValue: 10, maxValue: 600 },
						default: 60,
						description: 'A connection that stops answering is found and replaced within this time',
					},
					{
						displayName: 'Download Attachments',
						name: 'attachments',
						type: 'boolean',
						default: true,
						description: 'Whether to output attachments as binary data',
					},
					{
						displayName: 'Include Inline Images',
						name: 'includeInline',
						type: 'boolean',
						default: false,
						description: 'Whether to also output parts embedded in the HTML (cid: images)',
					},
					{
						displayName: 'Include Raw Message',
						name: 'includeRaw',
						type: 'boolean',
						default: false,
						description:
							'Whether to also output the whole message as a binary .eml file (property "raw")',
					},
					{
						displayName: 'Max Attachment Size (MB)',
						name: 'maxAttachmentMb',
						type: 'number',
						default: 25,
						description: 'Larger attachments are listed but not downloaded (a warning says so)',
					},
					{
						displayName: 'Max Message Size (MB)',
						name: 'maxMessageMb',
						type: 'number',
						default: 40,
						description: 'Larger messages start a run with their headers only, and a warning',
					},
				],
			},
		],
	};

	methods = {
		credentialTest: { agentMailInboxConnectionTest },
		loadOptions: { listFolders },
	};

	async trigger(this: ITriggerFunctions): Promise<ITriggerResponse> {
		const parsed = tryParseConnection(await this.getCredentials('agentMailInboxApi'));
		if (!parsed.ok) throw new NodeOperationError(this.getNode(), parsed.message);
		let connection;
		try {
			connection = forInbox(parsed.connection, this.getNodeParameter('inbox', '') as string);
		} catch (error) {
			throw new NodeOperationError(this.getNode(), (error as CredentialError).message);
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
				if ('error' in fetched) throw new NodeOperationError(this.getNode(), fetched.error.message);
				const message = fetched.message;
				if (!message) {
					throw new NodeOperationError(
						this.getNode(),
						`No message arrived in ${folder} while waiting.`,
					);
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
			onFatal: (error) => this.emitError(new NodeOperationError(this.getNode(), error.message)),
			// Not emitError: n8n 2.40 retries re-activating a failed trigger 5 times within about
			// 15 s and then never again, so a key revoked for longer would stop the trigger for
			// good. A failed execution tells the user (and runs the error workflow) instead.
			onRefused: (error) =>
				this.saveFailedExecution(
					new NodeOperationError(this.getNode(), error.message, {
						description: `The trigger stays active and tries again every ${RECONNECT_SLOW_CAP_MS / 1000} s; it picks up the mail that arrived meanwhile once the login works again.`,
					}),
				),
		});
		emitter.session = session;
		const started = await session.start().then(
			() => null,
			(error: unknown) => error,
		);
		if (started instanceof FatalSessionError) {
			throw new NodeOperationError(this.getNode(), started.message);
		}
		return {
			closeFunction: async () => {
				emitter.flush();
				await session.stop();
			},
		};
	}
}
