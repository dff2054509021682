/** What every bench phase gets, and small helpers they share. */
import { setTimeout as sleep } from 'node:timers/promises';
import { waitForTriggerStart } from '../../tools/n8n/demo';
import type { WorkflowInput } from '../../tools/n8n/server';
import { INBOX, type Lab } from '../lab/lab';
import {
	builtinTriggerWorkflow,
	oursTriggerWorkflow,
	TRIGGER,
	type OursTriggerParameters,
	type Side,
} from '../lab/workflows';

/** A trigger gets this long to start after its workflow is activated (n8n applies it async). */
export const TRIGGER_START_TIMEOUT_MS = 60_000;
/** n8n's Email Trigger records nothing we can wait for: it has started well within this. */
const BUILTIN_START_MS = 5_000;

export interface BenchContext {
	lab: Lab;
	log: (line: string) => void;
}

/** The inbox each side's trigger watches in the bench. */
export const SIDE_INBOX: Record<Side, string> = { ours: INBOX.agent, builtin: INBOX.peer };

/**
 * A workflow holding only one side's trigger on its inbox, named after the phase; `ours` are
 * parameters of our trigger beyond its defaults (n8n's always runs with its own).
 */
export function sideTriggerWorkflow(
	lab: Lab,
	side: Side,
	phase: string,
	ours: OursTriggerParameters = {},
): WorkflowInput {
	const inbox = SIDE_INBOX[side];
	return side === 'ours'
		? oursTriggerWorkflow(`${phase}: AgentMail Trigger`, lab.ours[inbox], ours)
		: builtinTriggerWorkflow(`${phase}: Email Trigger (IMAP)`, lab.imap[inbox]);
}

/** Creates and activates a workflow and waits until its trigger listens; returns its id. */
export async function activate(
	context: BenchContext,
	side: Side | 'baseline',
	workflow: WorkflowInput,
): Promise<string> {
	const { client } = context.lab;
	const id = await client.createWorkflow(workflow);
	await client.activateWorkflow(id);
	if (side === 'ours') await waitForTriggerStart(client, id, TRIGGER, TRIGGER_START_TIMEOUT_MS);
	else if (side === 'builtin') await sleep(BUILTIN_START_MS);
	return id;
}

export async function deactivate(context: BenchContext, id: string): Promise<void> {
	await context.lab.client.deactivateWorkflow(id);
}

export function round(value: number, digits = 0): number {
	const factor = 10 ** digits;
	return Math.round(value * factor) / factor;
}
