/**
 * Why n8n 2.41's Email Trigger (IMAP) puts several messages in one run: one Email Trigger
 * workflow in the lab's n8n (the pinned version) against the sandbox, its imapflow client
 * logging every IMAP command and response it exchanges (imapflowTrace.cjs), and a few
 * messages delivered 1–2 s apart. Prints one timeline per pass: deliveries, the IMAP lines and
 * the runs with the messages each carried, in seconds after the first delivery.
 *
 * Two passes: imapflow as n8n sets it up (its auto-IDLE delay, 15 s, unchanged), then the same
 * with `autoIdleDelay` at 1 s. About three minutes in all.
 *
 * `npx tsx bench/investigations/emailTriggerBatching.ts [--messages 8]`
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { n8nVersionDir } from '../../tools/n8n/install';
import { startLab, type Lab } from '../lab/lab';
import { benchMessage, Deliverer } from '../lab/mail';
import { startedAt, waitForMessages } from '../lab/runs';
import { argument, runScript } from '../lab/script';
import { itemSubject, nodeItems, TRIGGER } from '../lab/workflows';
import { activate, deactivate, SIDE_INBOX, sideTriggerWorkflow } from '../phases/common';

const PRELOAD = path.join(__dirname, 'imapflowTrace.cjs');
/** After activation: n8n's trigger has selected INBOX and entered IDLE (15 s after SELECT). */
const SETTLE_MS = 20_000;
/** Between two deliveries: 1 s plus up to 1 s more. */
const SPACING_MS = 1_000;
const SPACING_JITTER_MS = 1_000;
/** Every message carried within this. */
const CARRIED_TIMEOUT_MS = 90_000;
/** After the last run: the client goes back into IDLE within this. */
const IDLE_AGAIN_TIMEOUT_MS = 30_000;

interface TraceLine {
	t: number;
	level: string;
	cid?: string;
	src?: 'c' | 's';
	msg?: string;
	comment?: string;
}

function say(line: string): void {
	process.stdout.write(`[trace ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

/** The imapflow n8n's trigger loads: @n8n/imap's dependency in the installed n8n. */
function n8nImapflow(): string {
	const imapPackage = path.join(n8nVersionDir(), 'n8n', 'node_modules', '@n8n', 'imap');
	return require.resolve('imapflow', { paths: [imapPackage] });
}

function readTrace(file: string, from: number): TraceLine[] {
	if (!existsSync(file)) return [];
	return readFileSync(file, 'utf8')
		.split('\n')
		.filter((line) => line.trim() !== '')
		.map((line) => JSON.parse(line) as TraceLine)
		.filter((line) => line.t >= from);
}

/** The trace's protocol lines and IDLE state messages, without the LOGIN exchange's details. */
function describe(line: TraceLine): string | undefined {
	const msg = (line.msg ?? '').replace(/\s+/g, ' ').trim();
	if (line.src === 'c') return `C: ${msg.slice(0, 90)}${line.comment ? ` (${line.comment})` : ''}`;
	if (line.src === 's') return `S: ${msg.slice(0, 90)}`;
	if (/idle|client created/i.test(msg)) return `imapflow: ${msg}`;
	return undefined;
}

async function pass(
	lab: Lab,
	label: string,
	messages: number,
	files: { trace: string; delay: string },
	idleDelayMs?: number,
): Promise<string[]> {
	const context = { lab, log: say };
	if (idleDelayMs === undefined) rmSync(files.delay, { force: true });
	else writeFileSync(files.delay, String(idleDelayMs));
	const from = Date.now();
	const id = await activate(
		context,
		'builtin',
		sideTriggerWorkflow(lab, 'builtin', `Trace ${label}`),
	);
	const activatedAt = Date.now();
	await sleep(Math.max(0, from + SETTLE_MS - Date.now()));
	const deliverer = new Deliverer(lab.info);
	const delivered: Array<{ subject: string; at: number }> = [];
	let executions;
	try {
		for (let i = 1; i <= messages; i++) {
			const subject = `trace ${label} ${i}`;
			delivered.push({
				subject,
				at: await deliverer.deliver(SIDE_INBOX.builtin, benchMessage(subject)),
			});
			if (i < messages) await sleep(SPACING_MS + Math.random() * SPACING_JITTER_MS);
		}
		({ executions } = await waitForMessages(
			lab,
			id,
			delivered.map((delivery) => delivery.subject),
			{ quietMs: 2_000, timeoutMs: CARRIED_TIMEOUT_MS },
		));
		// Until the client idles again after the last run, so the timeline shows that wait too.
		const lastStart = Math.max(...executions.map(startedAt));
		const deadline = Date.now() + IDLE_AGAIN_TIMEOUT_MS;
		while (
			Date.now() < deadline &&
			!readTrace(files.trace, lastStart).some((line) => /^\S+ IDLE$/.test(line.msg ?? ''))
		) {
			await sleep(500);
		}
	} finally {
		deliverer.close();
		await deactivate(context, id);
	}
	const zero = delivered[0].at;
	const at = (t: number) => `${((t - zero) / 1000).toFixed(3).padStart(8)} s`;
	const events: Array<{ t: number; text: string }> = [
		{ t: activatedAt, text: `workflow active (activated, n8n given ${activatedAt - from} ms)` },
		...delivered.map((delivery) => ({ t: delivery.at, text: `delivered: ${delivery.subject}` })),
		...executions.map((execution) => ({
			t: startedAt(execution),
			text: `RUN ${execution.id} started, carrying: ${nodeItems(execution, TRIGGER)
				.map(itemSubject)
				.join(', ')}`,
		})),
	];
	for (const line of readTrace(files.trace, from)) {
		const text = describe(line);
		if (text) events.push({ t: line.t, text: `[${line.cid ?? '?'}] ${text}` });
	}
	events.sort((a, b) => a.t - b.t);
	const carried = executions.map((execution) => nodeItems(execution, TRIGGER).length);
	const latencies = delivered.map(({ subject, at: deliveredAt }) => {
		const run = executions
			.filter((execution) =>
				nodeItems(execution, TRIGGER).some((item) => itemSubject(item) === subject),
			)
			.sort((a, b) => startedAt(a) - startedAt(b))[0];
		return run ? `${((startedAt(run) - deliveredAt) / 1000).toFixed(1)} s` : 'never';
	});
	return [
		`## ${label}`,
		'',
		`${messages} messages in ${executions.length} runs (messages per run: ${carried.join(', ')}); delivery → start of the run that carried it: ${latencies.join(', ')}`,
		'',
		...events.map((event) => `${at(event.t)}  ${event.text}`),
		'',
	];
}

async function main(): Promise<void> {
	const messages = Number(argument('messages') ?? 8);
	const files = {
		trace: path.join(os.tmpdir(), `agentmail-imapflow-trace-${process.pid}.jsonl`),
		delay: path.join(os.tmpdir(), `agentmail-imapflow-idle-delay-${process.pid}`),
	};
	const lab = await startLab({
		name: 'agentmail-trace',
		log: say,
		n8nEnv: {
			NODE_OPTIONS: `--require ${PRELOAD}`,
			BENCH_IMAPFLOW_MODULE: n8nImapflow(),
			BENCH_IMAPFLOW_TRACE: files.trace,
			BENCH_IMAPFLOW_IDLE_DELAY_FILE: files.delay,
		},
	});
	const out: string[] = [`n8n ${lab.versions.n8n}, imapflow at ${n8nImapflow()}`, ''];
	try {
		out.push(...(await pass(lab, 'as n8n sets imapflow up', messages, files)));
		out.push(...(await pass(lab, 'autoIdleDelay 1 s', messages, files, 1_000)));
	} finally {
		await lab.stop();
		rmSync(files.delay, { force: true });
	}
	process.stdout.write(`\n${out.join('\n')}\n(trace: ${files.trace})\n`);
}

runScript('trace', main);
