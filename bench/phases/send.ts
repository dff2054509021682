/**
 * Sending: one execution sends 200 items through our node and through n8n's Send Email; the
 * floor is a bare nodemailer pool on one connection sending the same 200 messages. The node's
 * own time is what n8n measured for it (runData executionTime); connections are counted by the
 * SMTP server.
 */
import { randomUUID } from 'node:crypto';

import { INBOX } from '../lab/lab';
import { sendWithBarePool } from '../lab/floor';
import { median } from '../lab/proc';
import { listExecutions, sleep, waitForQuiet } from '../lab/runs';
import { nodeExecutionTime, SEND, sendWorkflow, type Side } from '../lab/workflows';
import { round, type BenchContext } from './common';

/** Where the bench's mail goes: outside the sandbox, so it is only written to its outbox. */
const SINK = 'sink@example.org';
/** One webhook call. */
const WEBHOOK_TIMEOUT_MS = 30_000;
/** Between rounds: connections closed, n8n idle. */
const BETWEEN_MS = 2_000;

export interface SendResult {
	what: Side | 'floor';
	/** Messages per second, per round. */
	rates: number[];
	medianRate: number;
	/** SMTP connections the server saw, per round. */
	connections: number[];
	/** Messages the server accepted, per round. */
	accepted: number[];
}

function items(tag: string, count: number) {
	return Array.from({ length: count }, (_, i) => ({
		to: SINK,
		subject: `send ${tag} ${i}`,
		text: `Message ${i} of ${count}: a short plain-text body, as an agent's reply would be.`,
	}));
}

/** SMTP connections opened and messages accepted since the event index `from`. */
function serverCounts(context: BenchContext, from: number) {
	const events = context.lab.sandbox.smtpEvents().slice(from);
	return {
		connections: events.filter((event) => event.event === 'connect').length,
		accepted: events.filter((event) => event.event === 'data-accepted').length,
	};
}

export async function send(
	context: BenchContext,
	count: number,
	rounds: number,
): Promise<SendResult[]> {
	const { lab, log } = context;
	const results: Record<string, SendResult> = {};
	const workflows: Record<Side, { id: string; path: string }> = {} as never;
	for (const side of ['ours', 'builtin'] as const) {
		const from = side === 'ours' ? INBOX.agent : INBOX.peer;
		const path = `bench-send-${side}-${randomUUID().slice(0, 8)}`;
		const credential = side === 'ours' ? lab.ours[from] : lab.smtp[from];
		const id = await lab.client.createWorkflow(
			sendWorkflow(`Send 200: ${side}`, side, credential, from, path),
		);
		await lab.client.activateWorkflow(id);
		workflows[side] = { id, path };
	}
	await sleep(BETWEEN_MS);
	const record = (
		what: SendResult['what'],
		rate: number,
		counts: { connections: number; accepted: number },
	) => {
		const entry = (results[what] ??= {
			what,
			rates: [],
			medianRate: 0,
			connections: [],
			accepted: [],
		});
		entry.rates.push(round(rate, 1));
		entry.connections.push(counts.connections);
		entry.accepted.push(counts.accepted);
		log(
			`send ${what}: ${rate.toFixed(1)} msg/s, ${counts.connections} connection(s), ${counts.accepted} accepted`,
		);
	};
	for (let r = 1; r <= rounds; r++) {
		// The floor.
		let mark = lab.sandbox.smtpEvents().length;
		const elapsed = await sendWithBarePool(lab.info, INBOX.agent, items(`floor ${r}`, count));
		record('floor', (count * 1000) / elapsed, serverCounts(context, mark));
		await sleep(BETWEEN_MS);
		for (const side of ['ours', 'builtin'] as const) {
			const { id, path } = workflows[side];
			mark = lab.sandbox.smtpEvents().length;
			const response = await fetch(`${lab.n8n.url}/webhook/${path}`, {
				method: 'POST',
				headers: { 'content-type': 'application/json' },
				body: JSON.stringify({ items: items(`${side} ${r}`, count) }),
				signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
			});
			if (!response.ok) throw new Error(`webhook ${path}: HTTP ${response.status}`);
			await waitForQuiet(lab, id, { atLeast: r, quietMs: BETWEEN_MS, timeoutMs: 5 * 60_000 });
			const [latest] = await listExecutions(lab, id, true);
			const time = nodeExecutionTime(latest, SEND);
			if (latest.status !== 'success' || time === undefined) {
				throw new Error(`send ${side}: execution ${latest.id} ended ${latest.status}`);
			}
			record(side, (count * 1000) / time, serverCounts(context, mark));
			await sleep(BETWEEN_MS);
		}
	}
	for (const side of ['ours', 'builtin'] as const)
		await lab.client.deactivateWorkflow(workflows[side].id);
	return Object.values(results).map((entry) => ({
		...entry,
		medianRate: round(median(entry.rates), 1),
	}));
}
