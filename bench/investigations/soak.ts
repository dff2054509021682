/**
 * Finished investigation: an hour at 20 messages/s (70,660 messages) left the trigger's heap flat at 38-39 MB, none missing or twice; BENCHMARKS.md reports it in "Trigger memory soak, one hour".
 *
 * Memory soak of the AgentMail Trigger: a steady stream of mail (some with attachments) into a
 * sandbox inbox for a while, one run per message, every message marked read after its run, and
 * the trigger's process memory sampled after a forced GC. Prints one line per sample and a
 * summary; `--minutes N` (default 10), `--rate M` messages per second (default 20).
 *
 * Run: node --expose-gc --import tsx bench/investigations/soak.ts --minutes 10
 */
import { rm } from 'node:fs/promises';

import { activateTrigger, message } from '../../tools/triggerHarness';
import { deliver } from '../../tools/sandbox/deliver';
import { sandboxCredential } from '../../tools/sandbox/info';
import { startTemporarySandbox } from '../../tools/sandbox/sandbox';
import { argument, loadBuiltTrigger } from '../lab/script';

const SAMPLE_EVERY_MS = 30_000;

function mb(bytes: number): string {
	return (bytes / 1024 / 1024).toFixed(1);
}

async function main(): Promise<void> {
	const minutes = Number(argument('minutes') ?? 10);
	const rate = Number(argument('rate') ?? 20);
	const gc = (globalThis as { gc?: () => void }).gc;
	if (!gc) throw new Error('run with node --expose-gc');
	const sandbox = await startTemporarySandbox('agentmail-soak-');
	const trigger = await activateTrigger({
		node: await loadBuiltTrigger(),
		credentials: sandboxCredential(sandbox.info, 'agent@agentmail.test'),
	});
	const attachment = Buffer.alloc(200_000, 7).toString('base64').replace(/.{76}/g, '$&\r\n');
	let sent = 0;
	const started = Date.now();
	const end = started + minutes * 60_000;
	const samples: Array<{ t: number; rss: number; heap: number; emitted: number }> = [];
	// The harness keeps what was emitted; it is drained into one counter per message, allocated
	// up front (a list of subjects would grow the heap this soak measures with every message).
	const timesEmitted = new Uint8Array(rate * minutes * 60 + rate);
	let emitted = 0;
	let unexpected = 0;
	const drain = () => {
		for (const run of trigger.emitted.splice(0)) {
			for (const item of run.items) {
				emitted++;
				const index = Number(/^soak (\d+)$/.exec(String(item.json.subject))?.[1] ?? -1);
				if (index >= 0 && index < timesEmitted.length) {
					timesEmitted[index] = Math.min(255, timesEmitted[index] + 1);
				} else unexpected++;
			}
		}
	};
	const sample = () => {
		drain();
		gc();
		const { rss, heapUsed } = process.memoryUsage();
		samples.push({ t: Date.now() - started, rss, heap: heapUsed, emitted });
		process.stdout.write(
			`t=${Math.round((Date.now() - started) / 1000)}s sent=${sent} emitted=${emitted} rss=${mb(rss)}MB heap=${mb(heapUsed)}MB\n`,
		);
	};
	const timer = setInterval(sample, SAMPLE_EVERY_MS);
	sample();
	while (Date.now() < end) {
		const tick = Date.now();
		for (let i = 0; i < rate; i++) {
			const withFile = sent % 10 === 0;
			const boundary = `soak${sent}`;
			const body = withFile
				? [
						`--${boundary}`,
						'Content-Type: text/plain',
						'',
						`message ${sent}`,
						`--${boundary}`,
						'Content-Type: application/octet-stream; name="blob.bin"',
						'Content-Transfer-Encoding: base64',
						'',
						attachment,
						`--${boundary}--`,
					].join('\r\n')
				: `message ${sent}`;
			const headers = withFile
				? ['MIME-Version: 1.0', `Content-Type: multipart/mixed; boundary="${boundary}"`]
				: [];
			await deliver(
				sandbox.info,
				'agent@agentmail.test',
				message(`soak ${sent}`, headers, body).raw,
			);
			sent++;
		}
		await new Promise((resolve) => setTimeout(resolve, Math.max(0, 1000 - (Date.now() - tick))));
	}
	await new Promise((resolve) => setTimeout(resolve, 5_000));
	clearInterval(timer);
	sample();
	const sentCounts = timesEmitted.subarray(0, sent);
	const missing = sentCounts.filter((times) => times === 0).length;
	const duplicated = sentCounts.filter((times) => times > 1).length;
	await trigger.close();
	await sandbox.stop();
	await rm(sandbox.dir, { recursive: true, force: true });
	const first = samples.find((s) => s.t >= 60_000) ?? samples[0];
	const last = samples[samples.length - 1];
	process.stdout.write(
		`\nsoak: ${minutes} min, ${sent} messages sent, ${emitted} emitted ` +
			`(${missing} missing, ${duplicated} more than once, ${unexpected} not from this soak); ` +
			`RSS after GC ${mb(first.rss)} MB at ${Math.round(first.t / 1000)} s -> ${mb(last.rss)} MB at the end; ` +
			`heap ${mb(first.heap)} -> ${mb(last.heap)} MB\n`,
	);
}

void main();
