/**
 * n8n upgraded in place: both triggers active in n8n 2.40.7, n8n stopped, mail delivered while
 * it is down, and n8n 2.41.1 started on the same user folder (SQLite database, encryption key,
 * community nodes), as an upgrade of a self-hosted n8n goes. The lab's own n8n is stopped for
 * the drill and started again after it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { installN8n, N8N_VERSION } from '../../tools/n8n/install';
import { N8nClient, startN8n, type N8nServer } from '../../tools/n8n/server';
import { sandboxCredential } from '../../tools/sandbox/info';
import { freePorts } from '../../tools/sandbox/sandbox';
import { imapCredentialData, type CredentialRef, type Lab } from '../lab/lab';
import type { Side } from '../lab/workflows';
import {
	deliverEach,
	faultBegins,
	joined,
	rig,
	rowOf,
	seconds,
	SIDE_INBOX,
	unrig,
	waitAndTally,
	warmUp,
	type Drill,
	type DrillContext,
	type DrillOutcome,
} from './drill';
import { prose, verdict } from './prose';
import { RestSession } from './watch';

/** The version upgraded from: the one before the pin. */
const FROM_VERSION = '2.40.7';
/** Messages per side delivered while n8n is down for the upgrade. */
const WAITING_MESSAGES = 5;
/** After the new n8n is ready, how long each side gets. */
const BOUND_MS = 120_000;

/** A lab whose n8n is an older version on a folder of its own, sharing the lab's sandbox. */
async function olderLab(lab: Lab, log: (line: string) => void) {
	const installations = {
		from: await installN8n({ version: FROM_VERSION, log }),
		to: await installN8n({ log }),
	};
	const userFolder = await mkdtemp(path.join(os.tmpdir(), 'agentmail-drills-upgrade-'));
	const [port, brokerPort] = await freePorts(2);
	const start = async (version: 'from' | 'to') =>
		await startN8n({
			userFolder,
			port,
			brokerPort,
			installation: installations[version],
			env: { N8N_DEFAULT_BINARY_DATA_MODE: 'filesystem' },
		});
	let n8n: N8nServer = await start('from');
	const client = new N8nClient(n8n.url);
	const owner = { ...lab.owner };
	await client.setupOwner({ firstName: 'Bench', lastName: 'Owner', ...owner });
	await client.login(owner.email, owner.password);
	const apiKey = await client.createApiKey('upgrade drill');
	const credential = async (name: string, type: string, data: Record<string, unknown>) =>
		({ id: await client.createCredential(name, type, data), name }) as CredentialRef;
	const older: Lab = {
		...lab,
		client,
		get n8n() {
			return n8n;
		},
		ours: {
			[SIDE_INBOX.ours]: await credential(
				`AgentMail ${SIDE_INBOX.ours}`,
				'agentMailInboxApi',
				sandboxCredential(lab.info, SIDE_INBOX.ours),
			),
		},
		imap: {
			[SIDE_INBOX.builtin]: await credential(
				`IMAP ${SIDE_INBOX.builtin}`,
				'imap',
				imapCredentialData(lab.info, SIDE_INBOX.builtin),
			),
		},
		apiKey,
		owner,
		versions: { n8n: FROM_VERSION, node: installations.from.nodeVersion },
		async restartN8n(between) {
			await n8n.stop();
			await between?.();
			n8n = await start('to');
		},
		async stop() {
			await n8n.stop();
			await rm(userFolder, { recursive: true, force: true });
		},
	};
	return older;
}

/** The version the running n8n says it is: its settings as the editor reads them, logged in. */
async function runningVersion(lab: Lab): Promise<string> {
	const login = await fetch(`${lab.n8n.url}/rest/login`, {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify({ emailOrLdapLoginId: lab.owner.email, password: lab.owner.password }),
		signal: AbortSignal.timeout(30_000),
	});
	const cookie = login.headers
		.getSetCookie()
		.map((line) => line.split(';')[0])
		.find((pair) => pair.startsWith('n8n-auth=') && pair !== 'n8n-auth=');
	if (!cookie) return 'unknown (login refused)';
	const response = await fetch(`${lab.n8n.url}/rest/settings`, {
		headers: { cookie },
		signal: AbortSignal.timeout(30_000),
	});
	const body = (await response.json()) as { data?: { versionCli?: string } };
	return body.data?.versionCli ?? 'unknown';
}

async function upgrade(context: DrillContext, drill: Drill): Promise<DrillOutcome> {
	const lab = await olderLab(context.lab, context.log);
	const here: DrillContext = { lab, log: context.log, rest: new RestSession(lab) };
	try {
		const rigs = await rig(here, drill.title);
		try {
			const warm = await warmUp(here, rigs, drill.id);
			const logs = faultBegins(lab, rigs);
			const before = await runningVersion(lab);
			let waiting = {} as Record<Side, string[]>;
			const stoppingAt = Date.now();
			await lab.restartN8n(async () => {
				waiting = await deliverEach(here, drill.id, 'during the upgrade', WAITING_MESSAGES);
			});
			const readyAt = Date.now();
			const after = await runningVersion(lab);
			context.log(
				`${drill.id}: n8n ${FROM_VERSION} stopped, ${N8N_VERSION} ready after ${seconds(readyAt - stoppingAt)}`,
			);
			const outcome = await waitAndTally(drill.title, rigs, logs, {
				keys: joined(warm, waiting),
				held: waiting,
				faultEndedAt: readyAt,
				boundMs: BOUND_MS,
				nudge: true,
			});
			outcome.notes.unshift(
				`- n8n ${before} (as its settings said) stopped (SIGTERM) and n8n ${after} ready on the same user folder after ${seconds(readyAt - stoppingAt)} (its database migrations included).`,
			);
			return outcome;
		} finally {
			await unrig(here, rigs);
		}
	} finally {
		await lab.stop();
	}
}

export const upgradeInPlace: Drill = {
	id: 'upgrade-in-place',
	title: `n8n upgraded in place (${FROM_VERSION} → ${N8N_VERSION})`,
	what: `Both workflows active in n8n ${FROM_VERSION} on a user folder of their own (SQLite); n8n is stopped with SIGTERM, ${WAITING_MESSAGES} messages per side are delivered while it is down, and n8n ${N8N_VERSION} is started on the same folder. Time to recover: from the new n8n answering /healthz/readiness to the run with the last waiting message.`,
	explain(rows) {
		const builtin = rowOf(rows, 'builtin');
		return verdict('upgrade-in-place', {
			onStart: prose('builtin-on-start'),
			fromVersion: FROM_VERSION,
			outcome: builtin?.lost
				? 'found none, and the mail that arrived during the upgrade waited for the next message (the nudge)'
				: 'may find none, yet the waiting mail came here',
		});
	},
	async run(context): Promise<DrillOutcome> {
		let result = { error: 'not run' } as { outcome: DrillOutcome } | { error: unknown };
		// The lab's n8n is stopped meanwhile (two n8ns on a small machine would skew both), and
		// started again whatever happened.
		await context.lab.restartN8n(async () => {
			result = await upgrade(context, this).then(
				(outcome) => ({ outcome }),
				(error: unknown) => ({ error }),
			);
		});
		if ('error' in result) throw result.error;
		return result.outcome;
	},
};
