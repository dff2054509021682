/**
 * Runs an action node's execute() outside n8n with the parts of IExecuteFunctions it uses:
 * parameters, credentials, input items with binary data, continueOnFail and a logger. The
 * SMTP and IMAP servers it talks to are real (the sandbox); the end-to-end tests run the same
 * node inside a real n8n.
 */
import type {
	ICredentialDataDecryptedObject,
	IExecuteFunctions,
	INode,
	INodeExecutionData,
	INodeProperties,
	INodeType,
} from 'n8n-workflow';
import type { HarnessLog } from '../../tools/triggerHarness';

export type { HarnessLog };

export interface HarnessRun {
	node: INodeType;
	credentials: ICredentialDataDecryptedObject;
	/**
	 * Parameters per item (one object for all items, or a function of the item index, told
	 * which parameter the node is reading).
	 */
	parameters: Record<string, unknown> | ((i: number, name: string) => Record<string, unknown>);
	items: INodeExecutionData[];
	continueOnFail?: boolean;
	/** The workflow the node runs in (send once keeps workflows apart); default 'wf-test'. */
	workflowId?: string;
	/** The workflow's time zone (getTimezone); default UTC. */
	timeZone?: string;
	/** More of IExecuteFunctions, for an operation that needs it (Send and Wait: its resume URL). */
	extra?: Record<string, unknown>;
}

function defaults(properties: INodeProperties[]): Record<string, unknown> {
	const out: Record<string, unknown> = {};
	for (const property of properties) {
		// Expressions in defaults (e.g. "={{ $json.messageId }}") need n8n to evaluate; tests set those explicitly.
		if (!(property.name in out) && !String(property.default).startsWith('=')) {
			out[property.name] = property.default;
		}
	}
	return out;
}

/** Executes the node once over the items; returns its output and what it logged. */
export async function runNode(
	run: HarnessRun,
): Promise<{ output: INodeExecutionData[][]; logs: HarnessLog[] }> {
	const logs: HarnessLog[] = [];
	const log = (level: string) => (message: string, meta?: unknown) =>
		logs.push({ level, message, meta });
	const node: INode = {
		id: 'test-node',
		name: 'AgentMail',
		type: `n8n-nodes-agentmail-inbox.${run.node.description.name}`,
		typeVersion: 1,
		position: [0, 0],
		parameters: {},
	};
	const base = defaults(run.node.description.properties);
	const params = (i: number, name: string) => ({
		...base,
		...(typeof run.parameters === 'function' ? run.parameters(i, name) : run.parameters),
	});
	const context = {
		getInputData: () => run.items,
		getNode: () => node,
		getWorkflow: () => ({ id: run.workflowId ?? 'wf-test', name: 'test', active: false }),
		getNodeParameter: (name: string, i: number, fallback?: unknown) => {
			const value = params(i, name)[name];
			if (value === undefined) {
				if (fallback !== undefined) return fallback;
				throw new Error(`test harness: parameter "${name}" is not set`);
			}
			return value;
		},
		getCredentials: async () => run.credentials,
		continueOnFail: () => run.continueOnFail === true,
		getTimezone: () => run.timeZone ?? 'UTC',
		logger: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') },
		helpers: {
			getBinaryDataBuffer: async (i: number, property: string) => {
				const data = run.items[i]?.binary?.[property];
				if (!data) throw new Error(`test harness: item ${i} has no binary ${property}`);
				return Buffer.from(data.data, 'base64');
			},
			// As n8n's default (in-memory) binary mode stores it.
			prepareBinaryData: async (content: Buffer, fileName?: string, mimeType?: string) =>
				binary(fileName ?? 'file', mimeType ?? 'application/octet-stream', content),
		},
		...run.extra,
	} as unknown as IExecuteFunctions;
	const output = await (
		run.node.execute as (this: IExecuteFunctions) => Promise<INodeExecutionData[][]>
	).call(context);
	return { output, logs };
}

/** An n8n binary property from bytes. */
export function binary(fileName: string, mimeType: string, content: Buffer) {
	return { data: content.toString('base64'), fileName, mimeType, fileSize: String(content.length) };
}

/**
 * A runner of one operation: `base` parameters (resource, operation) plus the test's, items
 * given as their JSON. `credentials` is read at each run (the sandbox is known only then).
 */
export function operationRunner(
	node: INodeType,
	credentials: () => ICredentialDataDecryptedObject,
	base: Record<string, unknown>,
) {
	return async (
		parameters: Record<string, unknown> = {},
		items: Array<Record<string, unknown>> = [{}],
		continueOnFail = false,
	) =>
		await runNode({
			node,
			credentials: credentials(),
			parameters: { ...base, ...parameters },
			items: items.map((json) => ({ json: json as INodeExecutionData['json'] })),
			continueOnFail,
		});
}
