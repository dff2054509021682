/**
 * Finished investigation: in a 1,000-message catch-up the IMAP library alone takes about 0.45 s of the trigger's CPU, before any MIME parsing; BENCHMARKS.md reports it in "What the unmet targets are made of".
 *
 * Where the AgentMail Trigger's CPU goes in a burst: the burst phase's mail (1,000 messages:
 * 2 KB text, every other one with 50 KB of HTML, every 50th with a 1 MB attachment) waits in a
 * sandbox inbox; the built trigger is activated with "everything in the folder", 20 messages
 * per run, marking each run's messages read, and catches up while V8's sampling profiler runs.
 * No n8n: the harness stands in for it, so every sample is the trigger's own work.
 *
 * Prints the catch-up's wall and CPU time and the profile's samples by library (each sample is
 * counted for the nearest frame that belongs to a library; Node's own stream and buffer code
 * counts for whoever called it). `--messages N` (default 1,000), `--save FILE` keeps the
 * .cpuprofile for Chrome's DevTools.
 *
 * Run: npm run build && npx tsx bench/investigations/profile.ts
 */
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { performance } from 'node:perf_hooks';

import { activateTrigger } from '../../tools/triggerHarness';
import { sandboxCredential } from '../../tools/sandbox/info';
import { startTemporarySandbox } from '../../tools/sandbox/sandbox';
import { BATCH_SIZE, burstMessages } from '../phases/burst';
import { Deliverer } from '../lab/mail';
import { argument, loadBuiltTrigger, runScript } from '../lab/script';

/** Sampling interval of the profiler, µs. */
const SAMPLE_INTERVAL_US = 200;
/** LMTP connections filling the inbox (only the catch-up is measured). */
const DELIVERY_CONNECTIONS = 4;

/** Which library a frame's script belongs to; undefined for Node's own code and for V8. */
const CATEGORIES: Array<[RegExp, string]> = [
	[/node_modules\/email-reply-parser\//, 'reply text (email-reply-parser)'],
	[
		/node_modules\/(mailparser|@zone-eu\/mailsplit|libmime|libbase64|libqp|iconv-lite|encoding-japanese)\//,
		'MIME parsing (mailparser)',
	],
	[/node_modules\/imapflow\//, 'IMAP (imapflow)'],
	[/node_modules\/nodemailer\//, 'addresses (nodemailer addressparser)'],
	[/\/dist\/nodes\/shared\/imap\//, 'this package: IMAP session and cursor'],
	[/\/dist\/nodes\/shared\/mime\//, 'this package: headers, item, automatic-mail check'],
	[/\/dist\/nodes\//, 'this package: trigger node and emitter'],
	[/test\/helpers\/triggerHarness/, 'the harness (stands in for n8n)'],
];

interface ProfileNode {
	id: number;
	callFrame: { functionName: string; url: string };
	children?: number[];
}

interface Profile {
	nodes: ProfileNode[];
	samples: number[];
	timeDeltas: number[];
}

/** Sample time per category: each node counts for its nearest categorised ancestor. */
function byCategory(profile: Profile): Map<string, number> {
	const parent = new Map<number, number>();
	const nodes = new Map<number, ProfileNode>();
	for (const node of profile.nodes) {
		nodes.set(node.id, node);
		for (const child of node.children ?? []) parent.set(child, node.id);
	}
	const categoryOf = (id: number): string => {
		const own = nodes.get(id)!.callFrame;
		// V8's pseudo-frames say what the process was doing, not who asked for it.
		if (own.functionName === '(garbage collector)') return 'garbage collection';
		if (own.functionName === '(idle)') return 'idle (waiting for Dovecot)';
		for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
			const url = nodes.get(at)!.callFrame.url;
			for (const [pattern, name] of CATEGORIES) if (pattern.test(url)) return name;
		}
		return 'other (Node, V8, startup)';
	};
	const totals = new Map<string, number>();
	profile.samples.forEach((id, index) => {
		const name = categoryOf(id);
		totals.set(name, (totals.get(name) ?? 0) + profile.timeDeltas[index]);
	});
	return totals;
}

async function main(): Promise<void> {
	const messages = Number(argument('messages') ?? 1_000);
	const inbox = 'agent@agentmail.test';
	const sandbox = await startTemporarySandbox('agentmail-profile-');
	try {
		const deliverer = new Deliverer(sandbox.info, DELIVERY_CONNECTIONS);
		await Promise.all(
			burstMessages('profile', messages).map((message) => deliverer.deliver(inbox, message)),
		);
		deliverer.close();

		const session = new Session();
		session.connect();
		await session.post('Profiler.enable');
		await session.post('Profiler.setSamplingInterval', { interval: SAMPLE_INTERVAL_US });
		await session.post('Profiler.start');
		const cpuBefore = process.cpuUsage();
		const started = performance.now();
		let caughtUp!: () => void;
		const done = new Promise<void>((resolve) => (caughtUp = resolve));
		const trigger = await activateTrigger({
			node: await loadBuiltTrigger(),
			credentials: sandboxCredential(sandbox.info, inbox),
			parameters: {
				startFrom: 'all',
				afterRun: 'markRead',
				runMode: 'batch',
				batchSize: BATCH_SIZE,
			},
			onEmit: (emitted) => emitted >= messages && caughtUp(),
		});
		await done;
		const wallMs = performance.now() - started;
		const cpu = process.cpuUsage(cpuBefore);
		const { profile } = (await session.post('Profiler.stop')) as { profile: Profile };
		await trigger.close();
		session.disconnect();

		const save = argument('save');
		if (save) await writeFile(save, JSON.stringify(profile));
		const totals = byCategory(profile);
		const all = [...totals.values()].reduce((sum, value) => sum + value, 0);
		const out = [
			`catch-up of ${messages} messages in runs of ${BATCH_SIZE}: ${wallMs.toFixed(0)} ms wall, ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms CPU (user + system, this process)`,
			'',
			'| where | share of samples | ms |',
			'|---|---|---|',
			...[...totals.entries()]
				.sort((a, b) => b[1] - a[1])
				.map(
					([name, us]) =>
						`| ${name} | ${((us / all) * 100).toFixed(1)} % | ${(us / 1000).toFixed(0)} |`,
				),
		];
		process.stdout.write(out.join('\n') + '\n');
	} finally {
		await sandbox.stop();
	}
}

runScript('profile', main);
