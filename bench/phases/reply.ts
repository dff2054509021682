/**
 * Reply by Email: a workflow asks by Send and Wait (Approval, Reply by Email on) and waits; the
 * person's reply "Yes" is delivered over LMTP; measured from that delivery (LMTP answered, as
 * in the latency phase) to the start of the node after Send and Wait in the resumed execution
 * (its runData startTime in n8n). On the way: the AgentMail Trigger that watches the inbox
 * hears of the reply, hands it to the waiting execution's webhook, which reads it over IMAP,
 * and n8n resumes the execution.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { randomUUID } from 'node:crypto';

import type { Execution } from '../../tools/n8n/server';
import { INBOX } from '../lab/lab';
import { Deliverer, replyMessage, storedMessageId } from '../lab/mail';
import { listExecutions } from '../lab/runs';
import type { Fill } from '../lab/template';
import { askWorkflow, nodeItems, nodeStartTime, RESUMED } from '../lab/workflows';
import { activate, deactivate, sideTriggerWorkflow, type BenchContext } from './common';
import { summarize, type LatencySide, type Summary } from './latency';

/** Rounds run first and not counted (connections and code paths warmed up). */
const WARM_UP = 1;
/** How long a round waits for each step: the execution waiting, the question, the resume. */
const STEP_TIMEOUT_MS = 60_000;
/** Pause between two looks at the executions or the peer's mailbox. */
const POLL_MS = 200;
/** Between rounds: the previous execution saved and the trigger idle again. */
const BETWEEN_MS = 1_000;
/** The reply: a decision word, so the execution resumes approved. */
const REPLY_TEXT = 'Yes';

export interface ReplyResult {
	rounds: number;
	/** Reply delivered → the node after Send and Wait starts in the resumed execution, ms. */
	resume: number[];
	/** Rounds whose execution did not resume, or resumed without `approved: true`. */
	missing: number;
	/** Runs the watching trigger started (a reply taken as an answer starts none). */
	triggerRuns: number;
	summary: Summary;
	/** The AgentMail Trigger's delivery → run start from the same run's latency phase, if it ran. */
	trigger?: { messages: number; missing: number; run: Summary };
}

/** Polls `check` every {@link POLL_MS} until it gives a value; undefined after the timeout. */
async function poll<T>(check: () => Promise<T | undefined>): Promise<T | undefined> {
	const deadline = Date.now() + STEP_TIMEOUT_MS;
	while (Date.now() < deadline) {
		const value = await check();
		if (value !== undefined) return value;
		await sleep(POLL_MS);
	}
	return undefined;
}

/** One round: ask, reply, wait for the resume. The execution's id and the delivery time. */
async function round(
	context: BenchContext,
	ask: { id: string; path: string },
	deliverer: Deliverer,
	subject: string,
): Promise<{ execution: string; deliveredAt: number } | undefined> {
	const { lab, log } = context;
	const before = new Set((await listExecutions(lab, ask.id)).map((e) => String(e.id)));
	await lab.client.postWebhook(ask.path, { subject }, { timeoutMs: STEP_TIMEOUT_MS });
	const waiting = await poll(async () =>
		(await listExecutions(lab, ask.id)).find(
			(e) => !before.has(String(e.id)) && e.status === 'waiting',
		),
	);
	const question = await poll(() => storedMessageId(lab.info, INBOX.peer, subject));
	if (!waiting || !question) {
		log(`reply: "${subject}": ${waiting ? 'no question at peer' : 'no waiting execution'}`);
		return undefined;
	}
	const reply = replyMessage(INBOX.peer, INBOX.agent, subject, question, REPLY_TEXT);
	const deliveredAt = await deliverer.deliver(INBOX.agent, reply);
	const ended = await poll(async () =>
		(await listExecutions(lab, ask.id)).find(
			(e) => String(e.id) === String(waiting.id) && e.status !== 'waiting' && e.stoppedAt,
		),
	);
	if (!ended) log(`reply: "${subject}": execution ${waiting.id} not resumed`);
	return { execution: String(waiting.id), deliveredAt };
}

/** Delivery → resumed, per round (undefined: missing). */
function resumeTime(execution: Execution | undefined, deliveredAt: number): number | undefined {
	if (!execution || execution.status !== 'success') return undefined;
	const data = nodeItems(execution, RESUMED)[0]?.json.data as { approved?: unknown } | undefined;
	const start = nodeStartTime(execution, RESUMED);
	return data?.approved === true && start !== undefined ? start - deliveredAt : undefined;
}

/** `latency`: the same run's latency phase, when it ran (its trigger row goes beside). */
export async function reply(
	context: BenchContext,
	rounds: number,
	latency: LatencySide[] | undefined,
): Promise<ReplyResult> {
	const { lab, log } = context;
	const triggerId = await activate(context, 'ours', sideTriggerWorkflow(lab, 'ours', 'Reply'));
	const ask = { id: '', path: `bench-ask-${randomUUID().slice(0, 8)}` };
	ask.id = await lab.client.createWorkflow(
		askWorkflow('Reply: Send and Wait', lab.ours[INBOX.agent], ask.path, INBOX.peer),
	);
	await lab.client.activateWorkflow(ask.id);
	const deliverer = new Deliverer(lab.info);
	const measured: Array<{ execution: string; deliveredAt: number } | undefined> = [];
	let triggerRuns = 0;
	try {
		for (let i = 0; i < WARM_UP + rounds; i++) {
			const subject = `reply ${i < WARM_UP ? 'warm-up' : 'measured'} ${i} ${randomUUID().slice(0, 8)}`;
			const outcome = await round(context, ask, deliverer, subject);
			if (i >= WARM_UP) measured.push(outcome);
			await sleep(BETWEEN_MS);
		}
		triggerRuns = (await listExecutions(lab, triggerId)).length;
	} finally {
		deliverer.close();
		await deactivate(context, ask.id);
		await deactivate(context, triggerId);
	}
	const executions = new Map(
		(await listExecutions(lab, ask.id, true)).map((e) => [String(e.id), e]),
	);
	const resume = measured.flatMap((outcome) => {
		const ms = outcome && resumeTime(executions.get(outcome.execution), outcome.deliveredAt);
		return ms === undefined ? [] : [ms];
	});
	const result: ReplyResult = {
		rounds,
		resume,
		missing: rounds - resume.length,
		triggerRuns,
		summary: summarize(resume),
	};
	const ours = latency?.find((side) => side.side === 'ours');
	if (ours)
		result.trigger = { messages: ours.messages, missing: ours.missing, run: ours.summary.run };
	log(
		`reply: delivered → resumed p50 ${result.summary.p50} p95 ${result.summary.p95} max ${result.summary.max} ms over ${resume.length} of ${rounds} rounds; missing ${result.missing}; trigger runs ${triggerRuns}`,
	);
	return result;
}

/** The phase's section of BENCHMARKS.md, beside the trigger's latency of the same run. */
export function renderReply(result: ReplyResult, fill: Fill, line: (text?: string) => void): void {
	line(fill('reply', { rounds: result.rounds, triggerRuns: result.triggerRuns }));
	const { p50, p95, max } = result.summary;
	line(
		`| Reply by Email: reply delivered → next node starts | ${result.rounds} | ${p50} ms | ${p95} ms | ${max} ms | ${result.missing} |`,
	);
	const { trigger } = result;
	if (trigger) {
		const { p50: t50, p95: t95, max: tMax } = trigger.run;
		line(
			`| AgentMail Trigger: delivery → run start (latency phase) | ${trigger.messages} | ${t50} ms | ${t95} ms | ${tMax} ms | ${trigger.missing} |`,
		);
	}
	line();
}
