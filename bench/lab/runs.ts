/**
 * Watching runs: the public API's execution list, light (no data) while things happen and with
 * data once they are over, and each run's creation time; plus the bench's small async helpers.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Execution } from '../../tools/n8n/server';
import type { Lab } from './lab';
import { itemSubject, nodeItems, TRIGGER } from './workflows';

/** Page size of the public API's execution list (its maximum). */
const PAGE_SIZE = 250;
/** One list call; n8n answers in milliseconds unless it is very busy. */
const LIST_TIMEOUT_MS = 60_000;
/** Executions asked for at once by {@link createdTimes}. */
const CREATED_PARALLEL = 4;
/** Pause between two looks while waiting. */
const POLL_MS = 500;

/** Runs `task` over `items` with at most `parallel` at a time, in order of start. */
export async function inParallel<T>(
	items: T[],
	parallel: number,
	task: (item: T, index: number) => Promise<void>,
): Promise<void> {
	let next = 0;
	const worker = async () => {
		while (next < items.length) {
			const index = next++;
			await task(items[index], index);
		}
	};
	await Promise.all(Array.from({ length: Math.min(parallel, items.length) }, worker));
}

/** A GET of n8n's public API with the lab's key: the parsed JSON, or an error with n8n's answer. */
async function getApi(lab: Lab, pathAndQuery: string): Promise<unknown> {
	const response = await fetch(`${lab.n8n.url}${pathAndQuery}`, {
		headers: { accept: 'application/json', 'x-n8n-api-key': lab.apiKey },
		signal: AbortSignal.timeout(LIST_TIMEOUT_MS),
	});
	if (!response.ok) {
		const path = pathAndQuery.split('?')[0];
		throw new Error(`GET ${path}: HTTP ${response.status} ${await response.text()}`);
	}
	return await response.json();
}

/** Every execution of a workflow, newest first; with their data only when asked. */
export async function listExecutions(
	lab: Lab,
	workflowId: string,
	withData = false,
): Promise<Execution[]> {
	const all: Execution[] = [];
	let cursor: string | undefined;
	do {
		const query = new URLSearchParams({
			workflowId,
			includeData: String(withData),
			limit: String(withData ? 50 : PAGE_SIZE),
		});
		if (cursor) query.set('cursor', cursor);
		const page = (await getApi(lab, `/api/v1/executions?${query.toString()}`)) as {
			data: Execution[];
			nextCursor?: string | null;
		};
		all.push(...page.data);
		cursor = page.nextCursor ?? undefined;
	} while (cursor);
	return all;
}

/**
 * When n8n created each execution (ms since the epoch), by id: the moment it had the trigger's
 * emit and stored the run, before it started it. Only the single-execution endpoint of the
 * public API gives `createdAt`, so this asks for each one, a few at a time.
 */
export async function createdTimes(
	lab: Lab,
	ids: Array<number | string>,
): Promise<Map<string, number>> {
	const created = new Map<string, number>();
	await inParallel(ids, CREATED_PARALLEL, async (id) => {
		const execution = (await getApi(lab, `/api/v1/executions/${id}?includeData=false`)) as {
			createdAt?: string;
		};
		if (!execution.createdAt) throw new Error(`execution ${id} has no createdAt`);
		created.set(String(id), Date.parse(execution.createdAt));
	});
	return created;
}

/**
 * Waits until a workflow has at least `atLeast` executions, all ended, and nothing new has
 * started for `quietMs`; returns them (without data). Throws after `timeoutMs`.
 */
export async function waitForQuiet(
	lab: Lab,
	workflowId: string,
	options: { atLeast: number; quietMs: number; timeoutMs: number },
): Promise<Execution[]> {
	const deadline = Date.now() + options.timeoutMs;
	let count = -1;
	let stableSince = Date.now();
	for (;;) {
		const executions = await listExecutions(lab, workflowId);
		const ended = executions.every((execution) => execution.stoppedAt !== null);
		if (executions.length !== count || !ended) {
			count = executions.length;
			stableSince = Date.now();
		} else if (count >= options.atLeast && Date.now() - stableSince >= options.quietMs) {
			return executions;
		}
		if (Date.now() > deadline) {
			throw new Error(
				`workflow ${workflowId}: ${executions.length} executions (${ended ? 'all ended' : 'some running'}) after ${options.timeoutMs} ms, expected at least ${options.atLeast}`,
			);
		}
		await sleep(POLL_MS);
	}
}

/**
 * Waits until the runs of a workflow have carried every one of `subjects` (the subjects of the
 * trigger's items: one item is one message, and a run may carry several, as n8n 2.41's Email
 * Trigger's do), all runs have ended and nothing new has started for `quietMs`; returns the
 * executions with their data, and the subjects no run carried when `timeoutMs` ran out (then
 * it returns instead of throwing: the phase counts them as missing). The data is read only
 * once the runs have been quiet, so polling stays as light as {@link waitForQuiet}'s.
 */
export async function waitForMessages(
	lab: Lab,
	workflowId: string,
	subjects: Iterable<string>,
	options: { quietMs: number; timeoutMs: number },
): Promise<{ executions: Execution[]; missing: string[] }> {
	const wanted = new Set(subjects);
	const deadline = Date.now() + options.timeoutMs;
	let atLeast = 1;
	for (;;) {
		const runs = await waitForQuiet(lab, workflowId, {
			atLeast,
			quietMs: options.quietMs,
			timeoutMs: Math.max(0, deadline - Date.now()),
		}).catch(() => undefined);
		const executions = await listExecutions(lab, workflowId, true);
		const carried = new Set(
			executions.flatMap((execution) => nodeItems(execution, TRIGGER).map(itemSubject)),
		);
		const missing = [...wanted].filter((subject) => !carried.has(subject));
		if (missing.length === 0 || runs === undefined || Date.now() > deadline) {
			return { executions, missing };
		}
		atLeast = runs.length + 1;
	}
}

/** Start time of an execution in ms since the epoch. */
export function startedAt(execution: Execution): number {
	return Date.parse(execution.startedAt);
}
