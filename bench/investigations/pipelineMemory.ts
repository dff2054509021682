/**
 * Finished investigation: parsing a 10 MB attachment in pieces peaks 10 MB lower than joining it into one Buffer, and one FETCH peaks at about twice the message; BENCHMARKS.md reports it in "Memory in a fresh n8n for every round, and attachments handed over in pieces".
 *
 * Where the trigger's memory goes for one message with a 10 MB attachment, outside n8n: the
 * peak RSS growth of a fresh Node process (the kernel's high-water mark, VmHWM, reset just
 * before the step) while it does one step of the trigger's work:
 *   fetch       one FETCH of the whole message, with the attributes the trigger asks for
 *   parse       parseMessage, each attachment kept in the pieces it was decoded in
 *   parse+join  the same, then each attachment joined into one Buffer (as the trigger did
 *               before 2026-11-25)
 * Each step runs in a process of its own after a warm-up on a small message, so that it
 * starts from the same state; the steps take turns, `--rounds N` times (default 5). Starts and
 * stops a sandbox of its own. Linux only (/proc).
 *
 * Run: npx tsx bench/investigations/pipelineMemory.ts --rounds 5
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

import { ImapFlow } from 'imapflow';

import { imapOptions, parseConnection } from '../../nodes/shared/connection';
import { joinBinary } from '../../nodes/shared/mime/item';
import { parseMessage } from '../../nodes/shared/mime/toItem';
import { deliver } from '../../tools/sandbox/deliver';
import { readSandboxInfo, sandboxCredential } from '../../tools/sandbox/info';
import { startTemporarySandbox } from '../../tools/sandbox/sandbox';
import { benchMessage } from '../lab/mail';
import { median, statusBytes } from '../lab/proc';
import { argument, runScript } from '../lab/script';

const STEPS = ['fetch', 'parse', 'parse+join'] as const;
type Step = (typeof STEPS)[number];

const INBOX = 'agent@agentmail.test';
const ATTACHMENT_BYTES = 10 * 1024 * 1024;
const WARM_UP_ATTACHMENT_BYTES = 100_000;
/** Parses of the small message before the measured one: code compiled, pools allocated. */
const WARM_UPS = 3;
/** After the forced GCs, before the measurement: V8's concurrent sweeping finishes. */
const SETTLE_MS = 200;
/** One step, including Node's start; a parse of the 14 MB message takes about a second. */
const STEP_TIMEOUT_MS = 120_000;
const MB = 1024 * 1024;

/** Runs `work` and returns how far it raised the process's peak RSS, in MB. */
async function peakGrowth(work: () => Promise<unknown>): Promise<number> {
	const gc = (globalThis as { gc?: () => void }).gc;
	if (!gc) throw new Error('run the step with node --expose-gc');
	gc();
	gc();
	await sleep(SETTLE_MS);
	const before = statusBytes(process.pid, 'VmRSS');
	// "5" resets the peak (VmHWM) to the current RSS (Linux 4.0+).
	writeFileSync('/proc/self/clear_refs', '5');
	await work();
	return (statusBytes(process.pid, 'VmHWM') - before) / MB;
}

/** One step in this (child) process; prints its growth in MB. */
async function child(step: Step, dir: string, infoPath: string): Promise<void> {
	const meta = (raw: Buffer) => ({ uid: 1, folder: 'INBOX', flags: [], size: raw.length });
	if (step === 'fetch') {
		const info = readSandboxInfo(infoPath);
		const client = new ImapFlow(imapOptions(parseConnection(sandboxCredential(info, INBOX))));
		await client.connect();
		await client.mailboxOpen('INBOX');
		const listed = await client.fetchAll('1:*', { uid: true, size: true }, { uid: true });
		const [small, large] = [...listed].sort((a, b) => (a.size ?? 0) - (b.size ?? 0));
		// As the trigger's arrival fetch: one FETCH by UID with the whole source.
		const fetchOne = async (uid: number) =>
			await client.fetchAll(
				`${uid}:${uid}`,
				{ uid: true, flags: true, size: true, internalDate: true, envelope: true, source: true },
				{ uid: true },
			);
		for (let i = 0; i < WARM_UPS; i++) await fetchOne(small.uid);
		const growth = await peakGrowth(async () => await fetchOne(large.uid));
		await client.logout();
		process.stdout.write(`${growth}\n`);
		return;
	}
	const small = readFileSync(path.join(dir, 'small.eml'));
	for (let i = 0; i < WARM_UPS; i++) joinAll(await parseMessage(small, meta(small)));
	const large = readFileSync(path.join(dir, 'large.eml'));
	const growth = await peakGrowth(async () => {
		const parsed = await parseMessage(large, meta(large));
		if (step === 'parse+join') joinAll(parsed);
		return parsed;
	});
	process.stdout.write(`${growth}\n`);
}

function joinAll(parsed: Awaited<ReturnType<typeof parseMessage>>): Buffer[] {
	return Object.values(parsed.binaries).map((binary) => joinBinary(binary));
}

async function runStep(step: Step, dir: string, infoPath: string): Promise<number> {
	const { stdout } = await promisify(execFile)(
		process.execPath,
		[
			'--expose-gc',
			'--import',
			'tsx',
			__filename,
			'--step',
			step,
			'--dir',
			dir,
			'--info',
			infoPath,
		],
		{ timeout: STEP_TIMEOUT_MS },
	);
	return Number(stdout.trim().split('\n').pop());
}

async function main(): Promise<void> {
	const step = argument('step') as Step | undefined;
	if (step) return await child(step, argument('dir') ?? '', argument('info') ?? '');

	const rounds = Number(argument('rounds') ?? 5);
	const sandbox = await startTemporarySandbox('agentmail-pipeline-memory-');
	const dir = await mkdtemp(path.join(os.tmpdir(), 'agentmail-pipeline-memory-'));
	try {
		const small = benchMessage('pipeline memory, small', {
			attachmentBytes: WARM_UP_ATTACHMENT_BYTES,
		});
		const large = benchMessage('pipeline memory, large', { attachmentBytes: ATTACHMENT_BYTES });
		await writeFile(path.join(dir, 'small.eml'), small.raw);
		await writeFile(path.join(dir, 'large.eml'), large.raw);
		await deliver(sandbox.info, INBOX, small.raw);
		await deliver(sandbox.info, INBOX, large.raw);

		const growth: Record<Step, number[]> = { fetch: [], parse: [], 'parse+join': [] };
		for (let round = 1; round <= rounds; round++) {
			for (const name of STEPS) {
				const value = await runStep(name, dir, sandbox.infoPath);
				growth[name].push(value);
				process.stdout.write(`round ${round} ${name}: +${value.toFixed(1)} MB\n`);
			}
		}
		const sizeMb = (large.raw.length / MB).toFixed(1);
		process.stdout.write(
			`\nPeak RSS growth of a fresh process, one ${sizeMb} MB message with a ${ATTACHMENT_BYTES / MB} MB attachment, ${rounds} rounds (node ${process.version}):\n\n` +
				'| step | median | min | max |\n|---|---|---|---|\n',
		);
		for (const name of STEPS) {
			const values = growth[name];
			process.stdout.write(
				`| ${name} | ${median(values).toFixed(1)} MB | ${Math.min(...values).toFixed(1)} MB | ${Math.max(...values).toFixed(1)} MB |\n`,
			);
		}
	} finally {
		await sandbox.stop();
		await rm(dir, { recursive: true, force: true });
	}
}

runScript('pipelineMemory', main);
