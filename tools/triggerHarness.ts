/**
 * Runs the AgentMail Trigger's trigger() outside n8n, with the parts of ITriggerFunctions it
 * uses: emit (with a done promise that reports success or failure, as n8n does when the run
 * ends), emitError, static data, parameters, credentials, binary data and a logger. The IMAP
 * server is real; the end-to-end tests run the node inside a real n8n.
 */
import type { Readable } from 'node:stream';

import type {
	IDataObject,
	INodeExecutionData,
	INodeType,
	IRun,
	ITriggerFunctions,
	ITriggerResponse,
} from 'n8n-workflow';

import { AgentMailTrigger } from '../nodes/AgentMailTrigger/AgentMailTrigger.node';

/** A line the node logged, as both harnesses record it. */
export interface HarnessLog {
	level: string;
	message: string;
	meta?: unknown;
}

export interface Emitted {
	items: INodeExecutionData[];
	/** The deduplication key n8n would store with the run. */
	key?: string;
	/** True when a done promise came with the emit (after-run actions wait on it). */
	withDone: boolean;
}

export interface ActiveTrigger {
	emitted: Emitted[];
	/** What went to emitError (the trigger gave up and n8n deactivates it). */
	errors: Error[];
	/** What went to saveFailedExecution (reported, the trigger keeps going). */
	failures: Error[];
	logs: HarnessLog[];
	staticData: IDataObject;
	response: ITriggerResponse;
	/** Every emitted item, flattened. */
	items(): INodeExecutionData[];
	close(): Promise<void>;
}

export interface ActivateOptions {
	credentials: Record<string, unknown>;
	parameters?: Record<string, unknown>;
	/** Kept between activations, as n8n keeps the node's static data. */
	staticData?: IDataObject;
	mode?: 'trigger' | 'manual';
	/** The node to run; default the sources' AgentMailTrigger (benchmarks pass the built one). */
	node?: INodeType;
	/** Called after every emit, also while the activation is still catching up. */
	onEmit?: (emittedSoFar: number) => void;
	/** How many times storing binary data fails first (as with a full disk); default 0. */
	binaryFailures?: number;
	/** While this says true, storing binary data fails (a disk full for a while). */
	binaryStoreDown?: () => boolean;
	/** Awaited before each attachment is stored: lets a test hold a hand-over midway. */
	binaryGate?: () => Promise<void>;
	/** Whether the run an emit started succeeds; default always. */
	runSucceeds?: (items: INodeExecutionData[]) => boolean;
}

function deferred<T>() {
	let resolve!: (value: T) => void;
	let reject!: (error: Error) => void;
	const promise = new Promise<T>((res, rej) => {
		resolve = res;
		reject = rej;
	});
	return { promise, resolve, reject };
}

/** Activates the trigger (or prepares a manual run); rejects as n8n's activation would. */
export async function activateTrigger(options: ActivateOptions): Promise<ActiveTrigger> {
	const emitted: Emitted[] = [];
	const errors: Error[] = [];
	const failures: Error[] = [];
	const logs: HarnessLog[] = [];
	const staticData = options.staticData ?? {};
	let binaryFailuresLeft = options.binaryFailures ?? 0;
	const log = (level: string) => (message: string, meta?: unknown) =>
		logs.push({ level, message, meta });
	const params = {
		folder: 'INBOX',
		startFrom: 'new',
		afterRun: 'markRead',
		runMode: 'perMessage',
		...options.parameters,
	};
	const context = {
		getNode: () => ({
			id: 'node-1',
			name: 'AgentMail Trigger',
			type: 'agentMailTrigger',
			typeVersion: 1,
			position: [0, 0],
			parameters: {},
		}),
		getMode: () => options.mode ?? 'trigger',
		getActivationMode: () => 'activate',
		getCredentials: async () => options.credentials,
		getNodeParameter: (name: string, fallback?: unknown) =>
			name in params ? params[name as keyof typeof params] : fallback,
		getWorkflowStaticData: () => staticData,
		getWorkflow: () => ({ id: 'wf-test', name: 'test', active: true }),
		logger: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') },
		emit: (
			data: INodeExecutionData[][],
			_response?: unknown,
			done?: ReturnType<typeof deferred<IRun>>,
			key?: string,
		) => {
			const items = data[0];
			emitted.push({ items, withDone: !!done, key });
			options.onEmit?.(emitted.reduce((n, e) => n + e.items.length, 0));
			if (done) {
				const ok = options.runSucceeds ? options.runSucceeds(items) : true;
				// As in n8n: the done promise resolves once the run has finished, a moment later.
				setTimeout(() => {
					done.resolve({
						status: ok ? 'success' : 'error',
						data: {
							resultData: { runData: {}, ...(ok ? {} : { error: { message: 'run failed' } }) },
						},
					} as unknown as IRun);
				}, 5);
			}
		},
		emitError: (error: Error) => errors.push(error),
		saveFailedExecution: (error: Error) => failures.push(error),
		helpers: {
			createDeferredPromise: deferred,
			// As n8n's in-memory mode: a stream is read to its end into one Buffer.
			prepareBinaryData: async (
				bufferOrStream: Buffer | Readable,
				fileName?: string,
				mimeType?: string,
			) => {
				await options.binaryGate?.();
				if (binaryFailuresLeft > 0 || options.binaryStoreDown?.()) {
					binaryFailuresLeft--;
					throw new Error('ENOSPC: no space left on device');
				}
				const content = Buffer.isBuffer(bufferOrStream)
					? bufferOrStream
					: Buffer.concat(await bufferOrStream.toArray());
				return {
					data: content.toString('base64'),
					fileName,
					mimeType: mimeType ?? 'application/octet-stream',
					fileSize: String(content.length),
				};
			},
		},
	} as unknown as ITriggerFunctions;
	const node = options.node ?? new AgentMailTrigger();
	const response = await (
		node.trigger as (this: ITriggerFunctions) => Promise<ITriggerResponse>
	).call(context);
	return {
		emitted,
		errors,
		failures,
		logs,
		staticData,
		response,
		items: () => emitted.flatMap((e) => e.items),
		close: async () => await response.closeFunction?.(),
	};
}

/** A plain message with a unique Message-ID. */
export function message(
	subject: string,
	extraHeaders: string[] = [],
	body = 'Hello there.',
): { raw: string; messageId: string } {
	const messageId = `<${subject.replace(/[^a-zA-Z0-9]/g, '')}.${Math.random().toString(36).slice(2)}@outside.example>`;
	const raw = [
		'From: Jane Doe <jane@outside.example>',
		'To: agent@agentmail.test',
		`Subject: ${subject}`,
		`Message-ID: ${messageId}`,
		'Date: Tue, 24 Nov 2026 10:00:00 +0000',
		...extraHeaders,
		'',
		body,
		'',
	].join('\r\n');
	return { raw, messageId };
}
