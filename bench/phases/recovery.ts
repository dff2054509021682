/**
 * Recovery: with both triggers idling, Dovecot is SIGKILLed, a message for each waits in the
 * maildirs, and Dovecot comes back 5 s later. Measured: from the moment the IMAP port accepts a
 * connection again to the start of the run for the waiting message, and what n8n's log said
 * at the time.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { openSync, readSync, closeSync, statSync } from 'node:fs';
import net from 'node:net';

import { benchMessage } from '../lab/mail';
import { startedAt, waitForMessages } from '../lab/runs';
import { itemSubject, nodeItems, TRIGGER, type Side } from '../lab/workflows';
import { activate, deactivate, SIDE_INBOX, sideTriggerWorkflow, type BenchContext } from './common';

/** How long the server stays down. */
const OUTAGE_MS = 5_000;
/** Between two connection probes while the server comes back. */
const PROBE_EVERY_MS = 5;
/** How long a trigger gets to deliver the waiting message after the server is back. */
const RECOVERY_TIMEOUT_MS = 120_000;
/** After a round: both sides idle again. */
const SETTLE_MS = 5_000;

export interface RecoveryRound {
	/** Server accepting again → the run for the waiting message started, ms, per side. */
	ms: Record<Side, number | null>;
	/** n8n log lines of the round that mention IMAP or the connection. */
	logLines: string[];
}

/** Polls until a TCP connection to the port succeeds; resolves with that moment. */
export function firstAccept(host: string, port: number, until: number): Promise<number | null> {
	return new Promise((resolve) => {
		const attempt = () => {
			if (Date.now() > until) return resolve(null);
			const socket = net.connect(port, host);
			socket.once('connect', () => {
				const at = Date.now();
				socket.destroy();
				resolve(at);
			});
			socket.once('error', () => {
				socket.destroy();
				setTimeout(attempt, PROBE_EVERY_MS);
			});
		};
		attempt();
	});
}

function readFrom(file: string, offset: number): string {
	const size = statSync(file).size;
	if (size <= offset) return '';
	const buffer = Buffer.alloc(size - offset);
	const fd = openSync(file, 'r');
	try {
		readSync(fd, buffer, 0, buffer.length, offset);
	} finally {
		closeSync(fd);
	}
	return buffer.toString('utf8');
}

export async function recovery(context: BenchContext, rounds: number): Promise<RecoveryRound[]> {
	const { lab, log } = context;
	const ids: Record<Side, string> = {
		ours: await activate(context, 'ours', sideTriggerWorkflow(lab, 'ours', 'Recovery')),
		builtin: await activate(context, 'builtin', sideTriggerWorkflow(lab, 'builtin', 'Recovery')),
	};
	const results: RecoveryRound[] = [];
	try {
		for (let round = 1; round <= rounds; round++) {
			await sleep(SETTLE_MS);
			const logOffset = statSync(lab.n8n.logFile).size;
			await lab.sandbox.killImap();
			const subjects: Record<Side, string> = {
				ours: `recovery ours ${round}`,
				builtin: `recovery builtin ${round}`,
			};
			for (const side of ['ours', 'builtin'] as const) {
				await lab.sandbox.depositInMaildir(SIDE_INBOX[side], benchMessage(subjects[side]).raw);
			}
			await sleep(OUTAGE_MS);
			const accepted = firstAccept(lab.info.imap.host, lab.info.imap.port, Date.now() + 30_000);
			await lab.sandbox.startImap();
			const backAt = await accepted;
			if (backAt === null) throw new Error('Dovecot did not accept connections again');
			const ms: Record<Side, number | null> = { ours: null, builtin: null };
			for (const side of ['ours', 'builtin'] as const) {
				const { executions } = await waitForMessages(lab, ids[side], [subjects[side]], {
					quietMs: 1_000,
					timeoutMs: RECOVERY_TIMEOUT_MS,
				});
				const run = executions.find((execution) =>
					nodeItems(execution, TRIGGER).some((item) => itemSubject(item) === subjects[side]),
				);
				ms[side] = run ? startedAt(run) - backAt : null;
			}
			const logLines = readFrom(lab.n8n.logFile, logOffset)
				.split('\n')
				.filter((line) => /imap|connect|mail trigger/i.test(line));
			results.push({ ms, logLines });
			log(
				`recovery round ${round}: ours ${ms.ours} ms, built-in ${ms.builtin} ms after the server accepted again`,
			);
		}
	} finally {
		for (const side of ['ours', 'builtin'] as const) await deactivate(context, ids[side]);
	}
	return results;
}
