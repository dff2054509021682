/**
 * The workflows the bench and the drills activate, ours and n8n's own side by side, and how to
 * read what their runs carried.
 */
import { randomUUID } from 'node:crypto';

import { PACKAGE_NAME, type Execution, type WorkflowInput } from '../../tools/n8n/server';
import type { CredentialRef } from './lab';

/** Node names the readers below look for. */
export const TRIGGER = 'Trigger';
export const SEND = 'Send';

/** Which side a workflow is on. */
export type Side = 'ours' | 'builtin';

function node(
	name: string,
	type: string,
	typeVersion: number,
	parameters: Record<string, unknown>,
	credentials?: Record<string, CredentialRef>,
	position: [number, number] = [0, 0],
): Record<string, unknown> {
	return {
		id: randomUUID(),
		name,
		type,
		typeVersion,
		position,
		parameters,
		...(credentials ? { credentials } : {}),
	};
}

/** Parameters of the AgentMail Trigger (see its description for the names). */
export interface OursTriggerParameters {
	/** Inbox Address: another inbox the credential's key opens. */
	inbox?: string;
	folder?: string;
	startFrom?: 'new' | 'unread' | 'all';
	afterRun?: 'markRead' | 'nothing' | 'move';
	runMode?: 'perMessage' | 'batch';
	batchSize?: number;
	options?: Record<string, unknown>;
}

/** A workflow holding only the AgentMail Trigger: each run is the trigger's output. */
export function oursTriggerWorkflow(
	name: string,
	credential: CredentialRef,
	parameters: OursTriggerParameters = {},
): WorkflowInput {
	return {
		name,
		nodes: [
			node(
				TRIGGER,
				`${PACKAGE_NAME}.agentMailTrigger`,
				1,
				{ folder: 'INBOX', ...parameters },
				{ agentMailInboxApi: credential },
			),
		],
		connections: {},
	};
}

/**
 * A workflow holding only n8n's Email Trigger (IMAP), newest version, as a user would set it up
 * to get what ours gives: attachments downloaded, mail marked read (its default).
 */
export function builtinTriggerWorkflow(
	name: string,
	credential: CredentialRef,
	parameters: Record<string, unknown> = {},
): WorkflowInput {
	return {
		name,
		nodes: [
			node(
				TRIGGER,
				'n8n-nodes-base.emailReadImap',
				2.2,
				{
					mailbox: 'INBOX',
					postProcessAction: 'read',
					downloadAttachments: true,
					format: 'simple',
					options: {},
					...parameters,
				},
				{ imap: credential },
			),
		],
		connections: {},
	};
}

/** How the benchmark-only trigger emits (see bench/baseline-node). */
export interface BaselineOptions {
	/** Pause between two runs; 0: as fast as n8n takes them. */
	intervalMs?: number;
	/** Items per run. */
	perRun?: number;
	/** Items carrying what a parsed bench mail carries (text, and HTML on every other one). */
	mailSized?: boolean;
	/** Change the static data before each emit, as a trigger keeping its watermark does. */
	savePosition?: boolean;
	/** Hold the first emit until this time (epoch ms); 0: emit at activation. */
	startAt?: number;
	/** An AgentMail credential set on the node: n8n checks access to it per run. */
	credential?: CredentialRef;
	/** Read the credential when activated, as a mail trigger does before it connects. */
	readCredential?: boolean;
}

/**
 * The benchmark-only trigger: `count` items right after activation (`json.emittedAt` is when
 * each run was emitted), one per run unless told otherwise.
 */
export function baselineWorkflow(
	name: string,
	count: number,
	options: BaselineOptions = {},
): WorkflowInput {
	const parameters = {
		count,
		perRun: options.perRun ?? 1,
		intervalMs: options.intervalMs ?? 0,
		mailSized: options.mailSized ?? false,
		savePosition: options.savePosition ?? false,
		startAt: options.startAt ?? 0,
		readCredential: options.readCredential ?? false,
	};
	return {
		name,
		nodes: [
			node(
				TRIGGER,
				'n8n-nodes-bench-baseline.benchEmitter',
				1,
				parameters,
				options.credential ? { agentMailInboxApi: options.credential } : undefined,
			),
		],
		connections: {},
	};
}

/**
 * The runs of the benchmark-only trigger in emit order: which item opened each (`i`), when it
 * was emitted and when n8n started the run. The executions must be listed with their data.
 */
export function baselineEmits(
	executions: Execution[],
): Array<{ id: number | string; i: number; emittedAt: number; startedAt: number }> {
	return executions
		.map((execution) => {
			const [item] = nodeItems(execution, TRIGGER);
			return {
				id: execution.id,
				i: Number(item?.json.i),
				emittedAt: Number(item?.json.emittedAt),
				startedAt: Date.parse(execution.startedAt),
			};
		})
		.sort((a, b) => a.emittedAt - b.emittedAt);
}

/**
 * Webhook → Split Out → Send: a POST of `{items: [{to, subject, text}]}` to `/webhook/<path>`
 * sends every item in one execution, through our node or n8n's Send Email.
 */
export function sendWorkflow(
	name: string,
	side: Side,
	credential: CredentialRef,
	from: string,
	webhookPath: string,
	/** Ours only: validate without sending; a Send Once Key (the subject) on every item. */
	options: { validateOnly?: boolean; sendOnce?: boolean } = {},
): WorkflowInput {
	const send =
		side === 'ours'
			? node(
					SEND,
					`${PACKAGE_NAME}.agentMail`,
					1,
					{
						resource: 'message',
						operation: 'send',
						to: '={{ $json.to }}',
						subject: '={{ $json.subject }}',
						emailFormat: 'text',
						text: '={{ $json.text }}',
						options: {
							...(options.validateOnly ? { validateOnly: true } : {}),
							...(options.sendOnce ? { sendOnceKey: '={{ $json.subject }}' } : {}),
						},
					},
					{ agentMailInboxApi: credential },
					[600, 0],
				)
			: node(
					SEND,
					'n8n-nodes-base.emailSend',
					2.1,
					{
						fromEmail: from,
						toEmail: '={{ $json.to }}',
						subject: '={{ $json.subject }}',
						emailFormat: 'text',
						text: '={{ $json.text }}',
						options: { allowUnauthorizedCerts: true },
					},
					{ smtp: credential },
					[600, 0],
				);
	const webhook = webhookNode(webhookPath);
	const split = node(
		'Split Out',
		'n8n-nodes-base.splitOut',
		1,
		{ fieldToSplitOut: 'body.items', include: 'noOtherFields', options: {} },
		undefined,
		[300, 0],
	);
	return {
		name,
		nodes: [webhook, split, send],
		connections: {
			Webhook: { main: [[{ node: 'Split Out', type: 'main', index: 0 }]] },
			'Split Out': { main: [[{ node: SEND, type: 'main', index: 0 }]] },
		},
	};
}

/** A Webhook node answering at once: a POST to `/webhook/<path>` starts the workflow. */
export function webhookNode(webhookPath: string): Record<string, unknown> {
	return {
		...node('Webhook', 'n8n-nodes-base.webhook', 2, {
			httpMethod: 'POST',
			path: webhookPath,
			responseMode: 'onReceived',
			options: {},
		}),
		webhookId: randomUUID(),
	};
}

/** Node names of {@link askWorkflow}. */
export const ASK = 'Ask';
export const RESUMED = 'Resumed';

/**
 * Webhook → AgentMail Send and Wait (Approval, Reply by Email on) to `sendTo`, with the subject
 * the POST gives (`{subject}`) → a No Operation node, whose start is when the execution resumed.
 */
export function askWorkflow(
	name: string,
	credential: CredentialRef,
	webhookPath: string,
	sendTo: string,
): WorkflowInput {
	const ask = {
		...node(
			ASK,
			`${PACKAGE_NAME}.agentMail`,
			1,
			{
				resource: 'message',
				operation: 'sendAndWait',
				sendTo,
				subject: '={{ $json.body.subject }}',
				message: 'Approve this step? Reply "Yes" or use the link.',
				responseType: 'approval',
				replyByEmail: true,
			},
			{ agentMailInboxApi: credential },
			[300, 0],
		),
		webhookId: randomUUID(),
	};
	const resumed = node(RESUMED, 'n8n-nodes-base.noOp', 1, {}, undefined, [600, 0]);
	return {
		name,
		nodes: [webhookNode(webhookPath), ask, resumed],
		connections: {
			Webhook: { main: [[{ node: ASK, type: 'main', index: 0 }]] },
			[ASK]: { main: [[{ node: RESUMED, type: 'main', index: 0 }]] },
		},
	};
}

/** The node name {@link getManyWorkflow} reads with. */
export const GET_MANY = 'Get Many';

/**
 * Webhook → AgentMail Get Many of INBOX: a POST of `{inbox}` searches that inbox (one the
 * credential's key opens) with `parameters` (format, limit, filters).
 */
export function getManyWorkflow(
	name: string,
	credential: CredentialRef,
	webhookPath: string,
	parameters: Record<string, unknown>,
): WorkflowInput {
	const getMany = node(
		GET_MANY,
		`${PACKAGE_NAME}.agentMail`,
		1,
		{
			resource: 'message',
			operation: 'getMany',
			folder: 'INBOX',
			inbox: '={{ $json.body.inbox }}',
			...parameters,
		},
		{ agentMailInboxApi: credential },
		[300, 0],
	);
	return {
		name,
		nodes: [webhookNode(webhookPath), getMany],
		connections: { Webhook: { main: [[{ node: GET_MANY, type: 'main', index: 0 }]] } },
	};
}

type RunData = Record<
	string,
	Array<{
		executionTime?: number;
		startTime?: number;
		data?: { main: Array<Array<{ json: Record<string, unknown>; binary?: unknown }>> };
	}>
>;

/** The items a node put out in an execution (its first run, first output). */
export function nodeItems(
	execution: Execution,
	nodeName: string,
): Array<{ json: Record<string, unknown>; binary?: unknown }> {
	const runData = execution.data?.resultData.runData as RunData | undefined;
	return runData?.[nodeName]?.[0]?.data?.main?.[0] ?? [];
}

/** When a node started in an execution (its first run), ms since the epoch, as n8n noted it. */
export function nodeStartTime(execution: Execution, nodeName: string): number | undefined {
	const runData = execution.data?.resultData.runData as RunData | undefined;
	return runData?.[nodeName]?.[0]?.startTime;
}

/** How long a node ran in an execution, as n8n measured it (ms). */
export function nodeExecutionTime(execution: Execution, nodeName: string): number | undefined {
	const runData = execution.data?.resultData.runData as RunData | undefined;
	return runData?.[nodeName]?.[0]?.executionTime;
}

/** The subject of a trigger item: ours says `subject`, n8n's (simple format) too. */
export function itemSubject(item: { json: Record<string, unknown> }): string {
	return String(item.json.subject ?? '');
}
