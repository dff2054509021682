/**
 * `npm run drills`: every fault drill against our AgentMail Trigger / node and n8n's own
 * Email Trigger (IMAP) / Send Email, in one real n8n against one sandbox; writes RELIABILITY.md.
 *
 * `npm run drills -- --only=kill-idle,corpus` runs some drills, prints their rows and saves
 * their results in bench/results/drills/, from which RELIABILITY.md's last section is
 * regenerated; the rest of the file stays as the last full run wrote it. A full run keeps its
 * results in bench/results/drills.json; `npm run drills -- --report-only` writes RELIABILITY.md
 * again from them (the drills' current prose, the saved run's numbers) without running a drill.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { INBOX, startLab } from '../lab/lab';
import { corpus, oversized } from './content';
import { deactivateHung } from './deactivateHung';
import { SIDES, SIDE_INBOX, type Drill, type DrillContext } from './drill';
import { editWhileMail } from './editWhileMail';
import { halfOpen } from './halfOpen';
import { binaryStoreDown, poisonMessage, POISON_PRELOAD } from './handOver';
import { keyRevoked } from './keyRevoked';
import { emptyFolder } from './mailbox';
import { n8nRestart } from './n8nRestart';
import { outageVisible } from './outageVisible';
import {
	readFullRun,
	renderReport,
	writeReport,
	writeSavedResults,
	type DrillsRun,
} from './report';
import { renumbered } from './renumbered';
import { killIdle, killMidBurst } from './serverCrash';
import { smtpSessionEnd } from './smtpSession';
import { upgradeInPlace } from './upgradeInPlace';
import { RestSession } from './watch';
import { runScript } from '../lab/script';

const PROJECT_ROOT = path.resolve(__dirname, '..', '..');

/** In the order the report lists them. */
const DRILLS: Drill[] = [
	killIdle,
	killMidBurst,
	halfOpen,
	keyRevoked,
	renumbered,
	n8nRestart,
	corpus,
	oversized,
	smtpSessionEnd,
	// Faults in the trigger's own work.
	binaryStoreDown,
	poisonMessage,
	// The outage report, edits under mail, an upgrade, and letting go of a hung server.
	outageVisible,
	editWhileMail,
	upgradeInPlace,
	deactivateHung,
];

function say(line: string): void {
	process.stdout.write(`[drills ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

async function main(): Promise<void> {
	if (process.argv.includes('--report-only')) {
		// RELIABILITY.md again from the last full run's saved results, without running a drill.
		const run = readFullRun(PROJECT_ROOT, DRILLS);
		say(`wrote ${await writeReport(run, PROJECT_ROOT, { reportOnly: true })} from ${run.date}`);
		return;
	}
	const only = process.argv.find((arg) => arg.startsWith('--only='))?.slice('--only='.length);
	const chosen = only ? DRILLS.filter((drill) => only.split(',').includes(drill.id)) : DRILLS;
	if (chosen.length === 0)
		throw new Error(`no drill called ${only}; drills: ${DRILLS.map((d) => d.id).join(', ')}`);
	const started = new Date();
	const lab = await startLab({
		name: 'agentmail-drills',
		log: say,
		// The poison drill's fault; it touches only messages that carry its header.
		n8nEnv: { NODE_OPTIONS: `--require ${POISON_PRELOAD}` },
	});
	// test/helpers/sandbox.ts (the mailbox helpers) talks to the sandbox named here.
	process.env.AGENTMAIL_SANDBOX_JSON = lab.sandbox.infoPath;
	const context: DrillContext = { lab, log: say, rest: new RestSession(lab) };
	const run: DrillsRun = {
		command: `npm run drills${only ? ` -- --only=${only}` : ''}`,
		date: started.toISOString(),
		durationS: 0,
		machine: {
			cpus: os.cpus().length,
			cpuModel: os.cpus()[0]?.model ?? 'unknown',
			memoryGb: Math.round(os.totalmem() / 1024 ** 3),
		},
		versions: {
			n8n: lab.versions.n8n,
			n8nNode: lab.versions.node,
			drillsNode: process.version,
			package: (
				JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as {
					version: string;
				}
			).version,
		},
		results: [],
	};
	try {
		for (const drill of chosen) {
			say(`${drill.id}: ${drill.title}`);
			for (const address of [...SIDES.map((side) => SIDE_INBOX[side]), INBOX.other]) {
				await emptyFolder(address);
			}
			const drillStart = Date.now();
			const outcome = await drill.run(context).then(
				(value) => ({ outcome: value }),
				(error: Error) => ({ failure: error.message }),
			);
			run.results.push({ drill, ...outcome });
			const rows = 'outcome' in outcome ? outcome.outcome.rows : [];
			for (const row of rows) {
				say(
					`  ${row.side}: delivered ${row.delivered}, runs ${row.runs}, duplicates ${row.duplicates}, lost ${row.lost}, recovery ${row.recovery}`,
				);
			}
			if ('failure' in outcome) say(`  failed: ${outcome.failure}`);
			say(`  (${Math.round((Date.now() - drillStart) / 1000)} s)`);
		}
	} finally {
		await lab.stop();
	}
	run.durationS = Math.round((Date.now() - started.getTime()) / 1000);
	if (only) {
		process.stdout.write(`\n${renderReport(run)}\n`);
		say(`saved the results and wrote ${await writeSavedResults(run, PROJECT_ROOT)}`);
		return;
	}
	say(`wrote ${await writeReport(run, PROJECT_ROOT)} (${run.durationS} s)`);
}

runScript('drills', main);
