/**
 * The workflow edited and published again while mail keeps coming (the "ghost trigger" of
 * n8n-io/n8n#28392: after an edit, the old version's trigger keeps running next to the new one,
 * so mail starts runs of the old version, or two runs). Each side's workflow is its trigger and
 * a Set node whose value names the version; the edit changes that value.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { randomUUID } from 'node:crypto';

import type { WorkflowInput } from '../../tools/n8n/server';
import type { Lab } from '../lab/lab';
import { benchMessage, Deliverer } from '../lab/mail';
import { listExecutions } from '../lab/runs';
import { nodeItems, TRIGGER, type Side } from '../lab/workflows';
import {
	joined,
	SIDE_INBOX,
	SIDES,
	subjects,
	waitAndTally,
	type Drill,
	type DrillOutcome,
	type Rig,
} from './drill';
import { staged } from './stage';

/** The node the edit changes; its output says which version ran. */
const VERSION_NODE = 'Version';
/** Edits, each saved and published again. */
const EDITS = 4;
/** Between two edits, and after the last one before the steady mail stops. */
const EDIT_EVERY_MS = 8_000;
/** One message per side this often while the edits happen. */
const DELIVER_EVERY_MS = 1_000;
/** Messages per side after the last edit: they must run the last version. */
const AFTER_MESSAGES = 3;
const BOUND_MS = 120_000;

/** The side's workflow with the Set node after the trigger, naming `version`. */
function withVersion(
	workflow: WorkflowInput,
	version: string,
	nodeId: string = randomUUID(),
): WorkflowInput {
	const set = {
		id: nodeId,
		name: VERSION_NODE,
		type: 'n8n-nodes-base.set',
		typeVersion: 3.4,
		position: [300, 0],
		parameters: {
			mode: 'manual',
			assignments: {
				assignments: [{ id: nodeId, name: 'version', value: version, type: 'string' }],
			},
			includeOtherFields: true,
			options: {},
		},
	};
	const nodes = workflow.nodes.filter((node) => (node as { name: string }).name !== VERSION_NODE);
	return {
		...workflow,
		nodes: [...nodes, set],
		connections: { [TRIGGER]: { main: [[{ node: VERSION_NODE, type: 'main', index: 0 }]] } },
	};
}

/** Saves the edit (PUT /api/v1/workflows/:id) and publishes it; `how` says how. */
async function editAndPublish(lab: Lab, r: Rig, version: string, restart: boolean): Promise<void> {
	const setId = (
		r.workflow.nodes.find((n) => (n as { name: string }).name === VERSION_NODE) as {
			id: string;
		}
	).id;
	const body = withVersion(r.workflow, version, setId);
	const call = async (method: string, urlPath: string, payload?: unknown) => {
		const response = await fetch(`${lab.n8n.url}/api/v1/workflows/${r.id}${urlPath}`, {
			method,
			headers: { 'content-type': 'application/json', 'x-n8n-api-key': lab.apiKey },
			body: JSON.stringify(payload ?? {}),
			signal: AbortSignal.timeout(60_000),
		});
		if (!response.ok)
			throw new Error(`${method} ${urlPath || '/'}: ${response.status} ${await response.text()}`);
	};
	await call('PUT', '', { ...body, settings: body.settings ?? { executionOrder: 'v1' } });
	if (restart) await call('POST', '/deactivate');
	await call('POST', '/activate');
}

/** Which version each run ran, in order of start, and what went against the order. */
async function versionsRun(lab: Lab, r: Rig, last: string, after: string[]): Promise<string[]> {
	const runs = (await listExecutions(lab, r.id, true))
		.map((execution) => ({
			startedAt: Date.parse(execution.startedAt),
			version: String(nodeItems(execution, VERSION_NODE)[0]?.json.version ?? 'none'),
			subjects: nodeItems(execution, TRIGGER).map((item) => String(item.json.subject ?? '')),
		}))
		.sort((a, b) => a.startedAt - b.startedAt);
	const perVersion = new Map<string, number>();
	let newest = -1;
	const stale: string[] = [];
	for (const run of runs) {
		perVersion.set(run.version, (perVersion.get(run.version) ?? 0) + 1);
		const n = Number(run.version.slice(1));
		if (n < newest) stale.push(`${run.version} after v${newest} (${run.subjects.join(', ')})`);
		newest = Math.max(newest, n);
	}
	const afterWrong = runs.filter(
		(run) => run.version !== last && run.subjects.some((subject) => after.includes(subject)),
	);
	return [
		`- ${r.side}: runs per version: ${[...perVersion].map(([v, n]) => `${v} ${n}`).join(', ')}; runs of an older version after a newer one had run: ${stale.length}${stale.length ? ` (${stale.slice(0, 3).join('; ')})` : ''}; messages after the last edit run by another version than ${last}: ${afterWrong.length}.`,
	];
}

export const editWhileMail: Drill = {
	id: 'edit-while-mail',
	title: 'Workflow edited while mail arrives',
	what: `Each side's workflow is its trigger and a Set node whose value names the version (v0). While one message per side arrives every ${DELIVER_EVERY_MS / 1000} s, the workflow is edited ${EDITS} times, ${EDIT_EVERY_MS / 1000} s apart (the Set value becomes v1, v2, …; PUT /api/v1/workflows/:id) and published again: odd edits by publishing (POST …/activate), even ones by deactivating and activating. Then ${AFTER_MESSAGES} more messages per side. Every message must start exactly one run; a run of an older version after a newer one has run is a ghost trigger (n8n-io/n8n#28392). Time to recover: from the delivery of the messages after the edits to the run with the last of them.`,
	async run(context): Promise<DrillOutcome> {
		const { lab } = context;
		return await staged(
			context,
			this,
			{
				shape: (_side, workflow) => withVersion(workflow, 'v0'),
			},
			async ({ rigs, warm, logs }) => {
				const steady: Record<Side, string[]> = { ours: [], builtin: [] };
				let delivering = true;
				const deliverer = new Deliverer(lab.info);
				const steadyLoop = (async () => {
					for (let i = 1; delivering; i++) {
						for (const side of SIDES) {
							const subject = `drill ${this.id} ${side} steady ${i}`;
							await deliverer.deliver(SIDE_INBOX[side], benchMessage(subject));
							steady[side].push(subject);
						}
						await sleep(DELIVER_EVERY_MS);
					}
				})();
				try {
					for (let k = 1; k <= EDITS; k++) {
						await sleep(EDIT_EVERY_MS);
						await Promise.all(
							SIDES.map(
								async (side) => await editAndPublish(lab, rigs[side], `v${k}`, k % 2 === 0),
							),
						);
						context.log(`${this.id}: edit ${k} saved and published`);
					}
					await sleep(EDIT_EVERY_MS);
				} finally {
					delivering = false;
					await steadyLoop;
					deliverer.close();
				}
				const after = {} as Record<Side, string[]>;
				const afterAt = Date.now();
				const sender = new Deliverer(lab.info);
				try {
					for (const side of SIDES) {
						after[side] = subjects(this.id, side, 'after the edits', AFTER_MESSAGES);
						for (const subject of after[side]) {
							await sender.deliver(SIDE_INBOX[side], benchMessage(subject));
						}
					}
				} finally {
					sender.close();
				}
				const outcome = await waitAndTally(this.title, rigs, logs, {
					keys: joined(warm, steady, after),
					held: joined(steady, after),
					faultEndedAt: afterAt,
					boundMs: BOUND_MS,
					nudge: true,
				});
				const versions: string[] = [];
				for (const side of SIDES) {
					versions.push(...(await versionsRun(lab, rigs[side], `v${EDITS}`, after[side])));
				}
				outcome.notes.unshift(...versions);
				return outcome;
			},
		);
	},
};
