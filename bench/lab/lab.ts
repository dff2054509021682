/**
 * The bench and the drills run in a "lab": one sandbox (Dovecot + SMTP with AgentMail's rules)
 * and one real n8n (the pinned version) holding this package, n8n's own email nodes and a
 * benchmark-only trigger that emits empty runs. Credentials for both sides are created once:
 *
 * - ours: the AgentMail credential of agent@ (and of peer@, for the drills);
 * - n8n's: an `imap` and an `smtp` credential per inbox (the built-in nodes take no CA
 *   certificate, so they run with "allow unauthorized certificates").
 *
 * Everything lives in temporary folders; BENCH_KEEP=1 keeps them (n8n.log, database).
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { installN8n, N8N_VERSION } from '../../tools/n8n/install';
import { N8nClient, startN8n, type N8nServer } from '../../tools/n8n/server';
import { ensureBuilt } from '../../tools/n8n/build';
import type { ExtraInboxes } from '../../tools/sandbox/inboxes';
import { sandboxCredential, type SandboxInfo } from '../../tools/sandbox/info';
import { freePorts, startTemporarySandbox, type Sandbox } from '../../tools/sandbox/sandbox';

/** Folder of the benchmark-only n8n package (see baseline-node/package.json). */
const BASELINE_PACKAGE_DIR = path.resolve(__dirname, '..', 'baseline-node');
const BASELINE_PACKAGE_NAME = 'n8n-nodes-bench-baseline';

/** The inboxes of the sandbox. */
export const INBOX = {
	agent: 'agent@agentmail.test',
	peer: 'peer@agentmail.test',
	other: 'other@agentmail.test',
} as const;

/** A credential as workflows reference it. */
export interface CredentialRef {
	id: string;
	name: string;
}

export interface LabOptions {
	/** Prefix of the temporary folders. */
	name: string;
	/** More environment for n8n. */
	n8nEnv?: Record<string, string>;
	/** Progress lines. */
	log?: (line: string) => void;
	/** More sandbox inboxes (the scale phase's). */
	extraInboxes?: ExtraInboxes[];
}

/** A running lab. */
export interface Lab {
	readonly sandbox: Sandbox;
	readonly info: SandboxInfo;
	readonly client: N8nClient;
	/** The running n8n (replaced by restartN8n). */
	readonly n8n: N8nServer;
	/** AgentMail credentials by inbox address. */
	readonly ours: Record<string, CredentialRef>;
	/** n8n's `imap` credentials by inbox address. */
	readonly imap: Record<string, CredentialRef>;
	/** n8n's `smtp` credentials by inbox address. */
	readonly smtp: Record<string, CredentialRef>;
	/** The public API key (for calls N8nClient does not make). */
	readonly apiKey: string;
	/** The owner's login (for REST calls N8nClient does not make); made up at run time. */
	readonly owner: { email: string; password: string };
	/** n8n's version and the Node it runs on. */
	readonly versions: { n8n: string; node: string };
	/** The folder n8n keeps binary data in (N8N_STORAGE_PATH; filesystem mode). */
	readonly binaryStore: string;
	/** Stops n8n (SIGTERM, as a service manager does) and starts it again on the same folder. */
	restartN8n(between?: () => Promise<void>): Promise<void>;
	/** Stops n8n and the sandbox and removes the folders (unless BENCH_KEEP=1). */
	stop(): Promise<void>;
}

/** n8n's built-in IMAP credential for a sandbox inbox. */
export function imapCredentialData(info: SandboxInfo, address: string): Record<string, unknown> {
	const ours = sandboxCredential(info, address);
	return {
		user: address,
		password: ours.apiKey,
		host: info.imap.host,
		port: info.imap.port,
		secure: true,
		allowUnauthorizedCerts: true,
	};
}

/** n8n's built-in SMTP credential for a sandbox inbox (implicit TLS, as ours uses). */
function smtpCredentialData(info: SandboxInfo, address: string): Record<string, unknown> {
	const ours = sandboxCredential(info, address);
	return {
		user: address,
		password: ours.apiKey,
		host: info.smtp.host,
		port: info.smtp.implicitTlsPort,
		secure: true,
		disableStartTls: false,
		hostName: 'localhost',
	};
}

/** Puts the benchmark-only package next to ours in the user folder's community nodes. */
async function linkBaselinePackage(userFolder: string): Promise<void> {
	const folder = path.join(userFolder, '.n8n', 'nodes', 'node_modules');
	await mkdir(folder, { recursive: true });
	const link = path.join(folder, BASELINE_PACKAGE_NAME);
	if (!existsSync(link)) await symlink(BASELINE_PACKAGE_DIR, link, 'dir');
}

/** Starts a sandbox and an n8n with everything the bench and the drills need. */
export async function startLab(options: LabOptions): Promise<Lab> {
	const log = options.log ?? (() => undefined);
	await ensureBuilt();
	const installation = await installN8n({ log });
	const sandbox = await startTemporarySandbox(`${options.name}-sandbox-`, options.extraInboxes);
	const userFolder = await mkdtemp(path.join(os.tmpdir(), `${options.name}-n8n-`));
	await linkBaselinePackage(userFolder);
	const [port, brokerPort] = await freePorts(2);
	const binaryStore = path.join(userFolder, 'binary-data');
	const env = {
		// What production setups use; binary data then never sits in the execution JSON.
		N8N_DEFAULT_BINARY_DATA_MODE: 'filesystem',
		// Named, so a drill can make it fail.
		N8N_STORAGE_PATH: binaryStore,
		...options.n8nEnv,
	};
	const start = async () => await startN8n({ userFolder, port, brokerPort, env, installation });
	let n8n = await start();
	log(`n8n ${N8N_VERSION} ready on ${n8n.url} (log: ${n8n.logFile})`);
	const client = new N8nClient(n8n.url);
	const owner = { email: 'bench@agentmail.test', firstName: 'Bench', lastName: 'Owner' };
	// Made up at run time; lives only in this lab's temporary folder.
	const password = `Bench-${randomBytes(12).toString('hex')}`;
	await client.setupOwner({ ...owner, password });
	await client.login(owner.email, password);
	const apiKey = await client.createApiKey('bench');

	const ours: Record<string, CredentialRef> = {};
	const imap: Record<string, CredentialRef> = {};
	const smtp: Record<string, CredentialRef> = {};
	for (const address of [INBOX.agent, INBOX.peer]) {
		const data = sandboxCredential(sandbox.info, address);
		const create = async (name: string, type: string, payload: Record<string, unknown>) => ({
			id: await client.createCredential(name, type, payload),
			name,
		});
		ours[address] = await create(`AgentMail ${address}`, 'agentMailInboxApi', data);
		imap[address] = await create(
			`IMAP ${address}`,
			'imap',
			imapCredentialData(sandbox.info, address),
		);
		smtp[address] = await create(
			`SMTP ${address}`,
			'smtp',
			smtpCredentialData(sandbox.info, address),
		);
	}

	const lab: Lab = {
		sandbox,
		info: sandbox.info,
		client,
		get n8n() {
			return n8n;
		},
		ours,
		imap,
		smtp,
		apiKey,
		owner: { email: owner.email, password },
		versions: { n8n: N8N_VERSION, node: installation.nodeVersion },
		binaryStore,
		async restartN8n(between) {
			await n8n.stop();
			await between?.();
			n8n = await start();
		},
		async stop() {
			await n8n.stop();
			await sandbox.stop();
			if (process.env.BENCH_KEEP) {
				log(`kept ${userFolder} and ${sandbox.dir}`);
				return;
			}
			await rm(userFolder, { recursive: true, force: true });
			await rm(sandbox.dir, { recursive: true, force: true });
		},
	};
	return lab;
}
