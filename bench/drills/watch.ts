/**
 * Watching one side of a drill as a user of n8n would, only more often: the workflow's runs and
 * what they carried, whether the workflow shows as active, and the activation error n8n shows
 * next to it (the editor's red warning), sampled while the drill runs.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Execution } from '../../tools/n8n/server';
import type { Lab } from '../lab/lab';
import { listExecutions } from '../lab/runs';
import { itemSubject, nodeItems, TRIGGER } from '../lab/workflows';

/** Between two looks at n8n while waiting: fast enough to time recoveries to about a second. */
export const POLL_MS = 1_000;
/** One REST or public API call; n8n answers in milliseconds unless it is very busy. */
const CALL_TIMEOUT_MS = 60_000;

/** How a run's items are told apart: the drills give every message a unique subject. */
export type KeyOf = (item: { json: Record<string, unknown> }) => string;

/** One execution of the watched workflow. */
export interface RunRecord {
	id: string;
	status: string;
	startedAt: number;
	/** Keys of the items the trigger put out in it. */
	keys: string[];
	/** The execution's error message, if it has one. */
	error?: string;
}

/** What the user could see of the workflow at some moment. */
export interface StateSample {
	/** When it was first seen (ms since the epoch). */
	at: number;
	/** GET /api/v1/workflows/:id → active (the editor's toggle). */
	active: boolean;
	/** The activation error n8n keeps for it (GET /rest/active-workflows/error/:id), if any. */
	error: string | null;
}

/** A logged-in REST session (cookie) for the calls the public API does not offer. */
export class RestSession {
	private cookie?: string;

	constructor(private readonly lab: Lab) {}

	private async login(): Promise<string> {
		const response = await fetch(`${this.lab.n8n.url}/rest/login`, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({
				emailOrLdapLoginId: this.lab.owner.email,
				password: this.lab.owner.password,
			}),
			signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
		});
		const cookie = response.headers
			.getSetCookie()
			.map((line) => line.split(';')[0])
			.find((pair) => pair.startsWith('n8n-auth=') && pair !== 'n8n-auth=');
		if (!response.ok || !cookie) throw new Error(`POST /rest/login: HTTP ${response.status}`);
		return cookie;
	}

	/** The activation error n8n shows for a workflow, or null. */
	async activationError(workflowId: string): Promise<string | null> {
		this.cookie ??= await this.login();
		const response = await fetch(`${this.lab.n8n.url}/rest/active-workflows/error/${workflowId}`, {
			headers: { cookie: this.cookie, accept: 'application/json' },
			signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
		});
		if (response.status === 401) {
			// The session ended (n8n restarted): log in again next time.
			this.cookie = undefined;
			return null;
		}
		if (!response.ok) throw new Error(`GET activation error: HTTP ${response.status}`);
		const body = (await response.json()) as { data?: unknown };
		return typeof body.data === 'string' && body.data !== '' ? body.data : null;
	}
}

async function executionWithData(lab: Lab, id: string): Promise<Execution> {
	const response = await fetch(`${lab.n8n.url}/api/v1/executions/${id}?includeData=true`, {
		headers: { accept: 'application/json', 'x-n8n-api-key': lab.apiKey },
		signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
	});
	if (!response.ok) throw new Error(`GET /api/v1/executions/${id}: HTTP ${response.status}`);
	return (await response.json()) as Execution;
}

/** The runs and visible state of one workflow, kept up to date by {@link poll}. */
export class Watch {
	readonly runs = new Map<string, RunRecord>();
	readonly states: StateSample[] = [];
	/** The moment state times are told from (the fault's start); see {@link startClock}. */
	zero = Date.now();
	/** Failed looks (n8n restarting); the next poll tries again. */
	unreachable = 0;

	constructor(
		readonly lab: Lab,
		private readonly rest: RestSession,
		readonly workflowId: string,
		private readonly keyOf: KeyOf = itemSubject,
	) {}

	/** Reads new finished runs (with their items) and samples the workflow's state. */
	async poll(): Promise<void> {
		const looked = await this.look().then(
			() => true,
			() => false,
		);
		if (!looked) this.unreachable++;
	}

	private async look(): Promise<void> {
		for (const execution of await listExecutions(this.lab, this.workflowId)) {
			const id = String(execution.id);
			if (this.runs.has(id) || execution.stoppedAt === null) continue;
			const full = await executionWithData(this.lab, id);
			this.runs.set(id, {
				id,
				status: full.status,
				// A failed execution a trigger records (n8n's saveFailedExecution) never started:
				// it has only a stop time.
				startedAt: Date.parse(full.startedAt ?? full.stoppedAt ?? ''),
				keys: nodeItems(full, TRIGGER).map(this.keyOf),
				error: full.data?.resultData.error?.message,
			});
		}
		const workflow = await this.lab.client.getWorkflow(this.workflowId);
		const sample: StateSample = {
			at: Date.now(),
			active: workflow.active === true,
			error: await this.rest.activationError(this.workflowId),
		};
		const last = this.states[this.states.length - 1];
		if (!last || last.active !== sample.active || last.error !== sample.error) {
			this.states.push(sample);
		}
	}

	/** How many times a key was put out, over all runs. */
	count(key: string): number {
		let n = 0;
		for (const run of this.runs.values()) n += run.keys.filter((k) => k === key).length;
		return n;
	}

	/** Start of the run in which the last of `keys` was first seen; null while one is unseen. */
	completedAt(keys: string[]): number | null {
		const firstSeen = new Map<string, number>();
		for (const run of this.runs.values()) {
			for (const key of run.keys) {
				firstSeen.set(key, Math.min(firstSeen.get(key) ?? Infinity, run.startedAt));
			}
		}
		let latest = 0;
		for (const key of keys) {
			const at = firstSeen.get(key);
			if (at === undefined) return null;
			latest = Math.max(latest, at);
		}
		return latest;
	}

	/** Polls until every key was seen once, or the time is up; returns whether all were seen. */
	async waitFor(keys: string[], timeoutMs: number): Promise<boolean> {
		const deadline = Date.now() + timeoutMs;
		for (;;) {
			await this.poll();
			if (this.completedAt(keys) !== null) return true;
			if (Date.now() > deadline) return false;
			await sleep(POLL_MS);
		}
	}

	/** Polls for `ms`, so the state samples cover that time (and late runs are read). */
	async observe(ms: number): Promise<void> {
		const until = Date.now() + ms;
		do {
			await this.poll();
			await sleep(POLL_MS);
		} while (Date.now() < until);
	}

	/** Every item key put out so far, with repeats. */
	allKeys(): string[] {
		return [...this.runs.values()].flatMap((run) => run.keys);
	}
}
