/**
 * Sending: one execution sends 200 items through our node and through n8n's Send Email; the
 * floor is a bare nodemailer pool on one connection sending the same 200 messages, once in the
 * bench's own process (where the sandbox's SMTP server runs too) and once in a process of its
 * own, as n8n is. The node's
 * own time is what n8n measured for it (runData executionTime); connections are counted by the
 * SMTP server. Our node also runs with "Validate Only": every item read and built, nothing
 * sent, which is n8n's and our per-item cost without the wire; and with a Send Once Key on
 * every item, which adds the look in Sent (none found) before the first message.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { randomUUID } from 'node:crypto';

import { INBOX } from '../lab/lab';
import { sendWithBarePool, sendWithBarePoolInOwnProcess } from '../lab/floor';
import { median } from '../lab/proc';
import { listExecutions, waitForQuiet } from '../lab/runs';
import { nodeExecutionTime, SEND, sendWorkflow, type Side } from '../lab/workflows';
import { round, type BenchContext } from './common';

/** Where the bench's mail goes: outside the sandbox, so it is only written to its outbox. */
const SINK = 'sink@example.org';
/** One webhook call. */
const WEBHOOK_TIMEOUT_MS = 30_000;
/** Between rounds: connections closed, n8n idle. */
const BETWEEN_MS = 2_000;

/**
 * What sends: the floor in the SMTP server's process and in its own, the two nodes, and ours
 * with "Validate Only" (nothing on the wire).
 */
export type Sender = Side | 'floor' | 'floorOwnProcess' | 'validateOnly' | 'sendOnce';

type NodeSender = Exclude<Sender, 'floor' | 'floorOwnProcess'>;

/** The workflows of the phase: which node, and whether it only validates. */
const SENDERS: Array<{ what: NodeSender; side: Side; validateOnly?: boolean; sendOnce?: boolean }> =
	[
		{ what: 'ours', side: 'ours' },
		{ what: 'validateOnly', side: 'ours', validateOnly: true },
		{ what: 'sendOnce', side: 'ours', sendOnce: true },
		{ what: 'builtin', side: 'builtin' },
	];

export interface SendResult {
	what: Sender;
	/** Messages per second, per round. */
	rates: number[];
	medianRate: number;
	/** SMTP connections the server saw, per round. */
	connections: number[];
	/** Messages the server accepted, per round. */
	accepted: number[];
	/** Per round, the server's mean time from a message's MAIL FROM to its acceptance, ms. */
	exchangeMs?: number[];
	/** Per round, the mean time from one message's acceptance to the next MAIL FROM, ms. */
	gapMs?: number[];
}

function items(tag: string, count: number) {
	return Array.from({ length: count }, (_, i) => ({
		to: SINK,
		subject: `send ${tag} ${i}`,
		text: `Message ${i} of ${count}: a short plain-text body, as an agent's reply would be.`,
	}));
}

/**
 * What the SMTP server saw since the event index `from`: connections opened, messages
 * accepted, and where the time of one message went. The exchange (MAIL FROM → accepted) is
 * the protocol round trips plus the server's work on the body; the gap (accepted → next MAIL
 * FROM) is the sender's own time between two messages. Means over the messages, ms.
 */
function serverCounts(context: BenchContext, from: number) {
	const events = context.lab.sandbox.smtpEvents().slice(from);
	const times = (name: string) =>
		events.filter((event) => event.event === name).map((event) => Date.parse(event.t));
	const mails = times('mail');
	const accepted = times('data-accepted');
	const exchange: number[] = [];
	const gap: number[] = [];
	accepted.forEach((at, k) => {
		if (mails[k] !== undefined) exchange.push(at - mails[k]);
		if (mails[k + 1] !== undefined) gap.push(mails[k + 1] - at);
	});
	const mean = (values: number[]) =>
		values.length ? round(values.reduce((sum, v) => sum + v, 0) / values.length, 1) : undefined;
	return {
		connections: events.filter((event) => event.event === 'connect').length,
		accepted: accepted.length,
		exchangeMs: mean(exchange),
		gapMs: mean(gap),
	};
}

export async function send(
	context: BenchContext,
	count: number,
	rounds: number,
): Promise<SendResult[]> {
	const { lab, log } = context;
	const results: Record<string, SendResult> = {};
	const workflows = {} as Record<NodeSender, { id: string; path: string }>;
	for (const { what, side, validateOnly, sendOnce } of SENDERS) {
		const from = side === 'ours' ? INBOX.agent : INBOX.peer;
		const path = `bench-send-${what}-${randomUUID().slice(0, 8)}`;
		const credential = side === 'ours' ? lab.ours[from] : lab.smtp[from];
		const id = await lab.client.createWorkflow(
			sendWorkflow(`Send 200: ${what}`, side, credential, from, path, { validateOnly, sendOnce }),
		);
		await lab.client.activateWorkflow(id);
		workflows[what] = { id, path };
	}
	await sleep(BETWEEN_MS);
	const record = (what: Sender, rate: number, counts: ReturnType<typeof serverCounts>) => {
		const entry = (results[what] ??= {
			what,
			rates: [],
			medianRate: 0,
			connections: [],
			accepted: [],
			exchangeMs: [],
			gapMs: [],
		});
		entry.rates.push(round(rate, 1));
		entry.connections.push(counts.connections);
		entry.accepted.push(counts.accepted);
		if (counts.exchangeMs !== undefined) entry.exchangeMs?.push(counts.exchangeMs);
		if (counts.gapMs !== undefined) entry.gapMs?.push(counts.gapMs);
		log(
			`send ${what}: ${rate.toFixed(1)} msg/s, ${counts.connections} connection(s), ${counts.accepted} accepted; per message, MAIL FROM → accepted ${counts.exchangeMs ?? '-'} ms, accepted → next MAIL FROM ${counts.gapMs ?? '-'} ms`,
		);
	};
	for (let r = 1; r <= rounds; r++) {
		// The floor.
		let mark = lab.sandbox.smtpEvents().length;
		const elapsed = await sendWithBarePool(lab.info, INBOX.agent, items(`floor ${r}`, count));
		record('floor', (count * 1000) / elapsed, serverCounts(context, mark));
		await sleep(BETWEEN_MS);
		mark = lab.sandbox.smtpEvents().length;
		const elapsedOwn = await sendWithBarePoolInOwnProcess(
			lab.info,
			INBOX.agent,
			items(`floor, own process ${r}`, count),
		);
		record('floorOwnProcess', (count * 1000) / elapsedOwn, serverCounts(context, mark));
		await sleep(BETWEEN_MS);
		for (const { what } of SENDERS) {
			const { id, path } = workflows[what];
			mark = lab.sandbox.smtpEvents().length;
			await lab.client.postWebhook(
				path,
				{ items: items(`${what} ${r}`, count) },
				{ timeoutMs: WEBHOOK_TIMEOUT_MS },
			);
			await waitForQuiet(lab, id, { atLeast: r, quietMs: BETWEEN_MS, timeoutMs: 5 * 60_000 });
			const [latest] = await listExecutions(lab, id, true);
			const time = nodeExecutionTime(latest, SEND);
			if (latest.status !== 'success' || time === undefined) {
				throw new Error(`send ${what}: execution ${latest.id} ended ${latest.status}`);
			}
			record(what, (count * 1000) / time, serverCounts(context, mark));
			await sleep(BETWEEN_MS);
		}
	}
	for (const { what } of SENDERS) await lab.client.deactivateWorkflow(workflows[what].id);
	return Object.values(results).map((entry) => ({
		...entry,
		medianRate: round(median(entry.rates), 1),
	}));
}
