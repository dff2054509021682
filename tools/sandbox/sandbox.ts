/**
 * A local AgentMail look-alike on real servers: Dovecot for IMAPS and LMTP, smtp-server for SMTP
 * submission, with AgentMail's documented rules. See startSandbox().
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { lmtpSend } from './deliver';
import { Dovecot } from './dovecot';
import { readSmtpEvents, SmtpEventLog, type SmtpEvent } from './events';
import { startImapProxy } from './imapProxy';
import { ensureInboxes, type ExtraInboxes } from './inboxes';
import { SANDBOX_FILES, sandboxDir, type SandboxInfo } from './info';
import { countEstablishedConnections, freePorts, portAnswers, waitForPortClosed } from './ports';
import { processAlive } from './processes';
import { resolveProfile, SANDBOX_PROFILES, type SandboxProfile } from './profiles';
import { rewriteMessage } from './rewrite';
import { startSmtpServers, type AcceptedMessage, type SmtpFaults } from './smtp';
import { ensureTls } from './tls';

export { deliver, type DeliverOptions } from './deliver';
export type { SmtpEvent, SmtpEventName } from './events';
export { readSandboxInfo, sandboxDir, SANDBOX_FILES, type SandboxInfo } from './info';
export { freePorts } from './ports';
export { SANDBOX_PROFILES, type SandboxProfile } from './profiles';
export type { SmtpFaults } from './smtp';
export { MAX_MESSAGE_BYTES, MAX_RECIPIENTS } from './smtp';

/** Everything listens on loopback only. */
const HOST = '127.0.0.1';
/** Closing the SMTP listeners is immediate once their clients are gone. */
const SMTP_STOP_TIMEOUT_MS = 5_000;

/** Fixed ports of the interactive sandbox (npm run sandbox). */
export const DEFAULT_PORTS = {
	imap: 9993,
	smtpImplicitTls: 9465,
	smtpStartTls: 9587,
	lmtp: 9024,
} as const;

/** Options of {@link startSandbox}. */
export interface StartSandboxOptions {
	/** Sandbox folder; default $AGENTMAIL_SANDBOX_DIR, else `<project root>/.sandbox`. */
	dir?: string;
	/** IMAPS port (TLS on connect); default 9993. */
	imapPort?: number;
	/** SMTP port with implicit TLS; default 9465. */
	smtpImplicitTlsPort?: number;
	/** SMTP port with STARTTLS; default 9587. */
	smtpStartTlsPort?: number;
	/** LMTP port for delivery into the inboxes; default 9024. */
	lmtpPort?: number;
	/** More inboxes opened with a sandbox inbox's key (not kept in inboxes.json). */
	extraInboxes?: ExtraInboxes[];
	/** Which servers it stands for; default $AGENTMAIL_SANDBOX_PROFILE, else `dovecot`. */
	profile?: SandboxProfile;
	/**
	 * Dovecot's own IMAPS port when the profile puts a proxy on `imapPort`; default a free port.
	 */
	dovecotImapPort?: number;
}

/** A running sandbox. */
export interface Sandbox {
	/** What sandbox.json holds. */
	readonly info: SandboxInfo;
	/** The sandbox folder. */
	readonly dir: string;
	/** Absolute path of sandbox.json. */
	readonly infoPath: string;
	/** Stops SMTP and Dovecot and waits until every port is closed. Safe to call twice. */
	stop(): Promise<void>;
	/** SIGKILLs the Dovecot master and all its children (IMAP and LMTP die: a server crash). */
	killImap(): Promise<void>;
	/**
	 * Replaces an inbox's API key (its old key is refused from the next login on, over IMAP and
	 * SMTP); sandbox.json keeps the old one.
	 */
	replaceKey(address: string, apiKey: string): Promise<void>;
	/** Puts a message into an inbox's maildir directly, e.g. while Dovecot is killed. */
	depositInMaildir(address: string, raw: Buffer | string): Promise<void>;
	/** Starts Dovecot again on the same ports and data (no-op when it runs). */
	startImap(): Promise<void>;
	/** Every SMTP event logged since this sandbox started. */
	smtpEvents(): SmtpEvent[];
	/** Dovecot's log (logins, errors). */
	readonly imapLogFile: string;
	/** Established client TCP connections to the IMAP port right now. */
	imapConnectionCount(): Promise<number>;
	/** Faults the SMTP servers inject from now on (tests of clients); empty = none. */
	readonly smtpFaults: SmtpFaults;
}

async function writeJsonAtomically(file: string, value: unknown, mode: number): Promise<void> {
	const temporary = `${file}.${process.pid}.tmp`;
	await writeFile(temporary, JSON.stringify(value, null, '\t') + '\n', { mode });
	await rename(temporary, file);
}

/** Takes the folder for this process, refusing when a live sandbox already holds it. */
async function claimFolder(dir: string, pidFile: string): Promise<void> {
	const failure = await writeFile(pidFile, `${process.pid}\n`, { flag: 'wx' }).then(
		() => undefined,
		(error: NodeJS.ErrnoException) => error,
	);
	if (!failure) return;
	// EEXIST: a claim is there already; anything else is a real problem with the folder.
	if (failure.code !== 'EEXIST') throw failure;
	const pid = Number(readFileSync(pidFile, 'utf8').trim());
	if (Number.isInteger(pid) && pid > 0 && processAlive(pid)) {
		throw new Error(`a sandbox is already running in ${dir} (pid ${pid}); stop it first`);
	}
	// Left behind by a sandbox that died without stopping: the folder is free.
	await writeFile(pidFile, `${process.pid}\n`);
}

async function releaseFolder(pidFile: string): Promise<void> {
	// Only remove our own claim; another process may have taken over a folder we failed to start.
	if (existsSync(pidFile) && (await readFile(pidFile, 'utf8')).trim() === String(process.pid)) {
		await rm(pidFile, { force: true });
	}
}

/**
 * Starts a sandbox: its own CA and localhost certificate, four inboxes with API keys (agent@,
 * peer@, other@ and team@agentmail.test; team@ opens with agent@'s key), a private Dovecot
 * (IMAPS + LMTP) and two SMTP servers, all on 127.0.0.1. Writes `<dir>/sandbox.json` last, once everything answers. Keys, TLS files
 * and mail are kept in the folder and reused by the next start.
 */
export async function startSandbox(options: StartSandboxOptions = {}): Promise<Sandbox> {
	const dir = path.resolve(options.dir ?? sandboxDir());
	await mkdir(dir, { recursive: true });
	const pidFile = path.join(dir, SANDBOX_FILES.pid);
	const infoPath = path.join(dir, SANDBOX_FILES.info);
	const eventsFile = path.join(dir, SANDBOX_FILES.smtpEvents);
	await claimFolder(dir, pidFile);
	const undo: Array<() => Promise<void>> = [async () => await releaseFolder(pidFile)];
	let started = false;
	try {
		const outbox = path.join(dir, 'outbox');
		await mkdir(outbox, { recursive: true });
		const tls = await ensureTls(path.join(dir, 'tls'));
		const inboxes = await ensureInboxes(dir, options.extraInboxes);
		const profile = resolveProfile(options.profile);
		const setup = SANDBOX_PROFILES[profile];
		const info: SandboxInfo = {
			profile,
			imap: { host: HOST, port: options.imapPort ?? DEFAULT_PORTS.imap },
			smtp: {
				host: HOST,
				implicitTlsPort: options.smtpImplicitTlsPort ?? DEFAULT_PORTS.smtpImplicitTls,
				startTlsPort: options.smtpStartTlsPort ?? DEFAULT_PORTS.smtpStartTls,
			},
			lmtp: { host: HOST, port: options.lmtpPort ?? DEFAULT_PORTS.lmtp },
			ca: tls.ca,
			inboxes,
			outbox,
		};
		for (const port of [info.smtp.implicitTlsPort, info.smtp.startTlsPort]) {
			if (await portAnswers(HOST, port)) throw new Error(`port ${HOST}:${port} is already in use`);
		}

		// With a proxy, clients reach Dovecot through it: Dovecot listens on a port of its own.
		const dovecotImapPort = setup.imapProxy
			? (options.dovecotImapPort ?? (await freePorts(1))[0])
			: info.imap.port;
		const dovecot = await Dovecot.prepare({
			dir,
			host: HOST,
			imapPort: dovecotImapPort,
			lmtpPort: info.lmtp.port,
			tls,
			inboxes,
			capability: setup.imapServer?.capability,
			specialUse: setup.imapServer?.specialUse,
		});
		await dovecot.start();
		undo.unshift(async () => await dovecot.stop());
		const imapProxy = setup.imapProxy
			? await startImapProxy({
					host: HOST,
					port: info.imap.port,
					upstream: { host: HOST, port: dovecotImapPort, ca: await readFile(tls.ca) },
					cert: await readFile(tls.cert),
					key: await readFile(tls.key),
					rules: setup.imapProxy,
				})
			: undefined;
		if (imapProxy) undo.unshift(async () => await imapProxy.close());

		const addresses = inboxes.map((inbox) => inbox.address);
		let outboxSequence = 0;
		const writeOutbox = async (message: AcceptedMessage, rcptTo: string[]) => {
			const stamp = new Date().toISOString().replace(/[-:.]/g, '');
			const name = path.join(outbox, `${stamp}-${String(++outboxSequence).padStart(6, '0')}`);
			await writeFile(`${name}.eml.tmp`, message.raw);
			await rename(`${name}.eml.tmp`, `${name}.eml`);
			// The sidecar comes last: once it exists, the .eml is complete.
			await writeJsonAtomically(
				`${name}.json`,
				{
					mailFrom: message.user,
					rcptTo,
					session: message.session,
					size: message.raw.length,
					receivedAt: new Date().toISOString(),
				},
				0o644,
			);
		};
		const rewrite = setup.smtpRewrite ?? {};
		// Sent copies the profile puts in place late: their timers, and the copies being stored.
		const lateCopies = new Set<NodeJS.Timeout>();
		const storingCopies = new Set<Promise<void>>();
		const copyToSent = (message: AcceptedMessage) => {
			const delayMs = rewrite.sentCopyAfterMs;
			if (delayMs === null) return;
			const timer = setTimeout(() => {
				lateCopies.delete(timer);
				const storing = dovecot.appendToSent(message.user, message.raw).catch((error: Error) => {
					process.stderr.write(`sandbox: the late Sent copy failed: ${error.message}\n`);
				});
				storingCopies.add(storing);
				void storing.finally(() => storingCopies.delete(storing));
			}, delayMs);
			lateCopies.add(timer);
		};
		const deliverAccepted = async (accepted: AcceptedMessage) => {
			const message = { ...accepted, raw: rewriteMessage(accepted.raw, rewrite) };
			const unique = [...new Set(message.rcptTo)];
			const local = unique.filter((address) => addresses.includes(address));
			const outside = unique.filter((address) => !addresses.includes(address));
			if (local.length > 0) await lmtpSend(info.lmtp, message.user, local, message.raw);
			if (rewrite.sentCopyAfterMs === undefined) {
				await dovecot.appendToSent(message.user, message.raw);
			} else copyToSent(message);
			if (outside.length > 0) await writeOutbox(message, outside);
		};
		undo.unshift(async () => {
			for (const timer of lateCopies) clearTimeout(timer);
			await Promise.all(storingCopies);
		});

		// The event log describes this run only.
		await writeFile(eventsFile, '');
		const smtpFaults: SmtpFaults = {};
		const smtp = await startSmtpServers({
			host: HOST,
			implicitTlsPort: info.smtp.implicitTlsPort,
			startTlsPort: info.smtp.startTlsPort,
			cert: await readFile(tls.cert),
			key: await readFile(tls.key),
			inboxes,
			events: new SmtpEventLog(eventsFile),
			deliver: deliverAccepted,
			faults: smtpFaults,
		});
		undo.unshift(async () => await smtp.close());

		await writeJsonAtomically(infoPath, info, 0o600);

		let stopping: Promise<void> | undefined;
		started = true;
		return {
			info,
			dir,
			infoPath,
			stop: async () => {
				stopping ??= (async () => {
					await smtp.close();
					await waitForPortClosed(HOST, info.smtp.implicitTlsPort, SMTP_STOP_TIMEOUT_MS);
					await waitForPortClosed(HOST, info.smtp.startTlsPort, SMTP_STOP_TIMEOUT_MS);
					// Late Sent copies not yet due never come; those being stored finish first.
					for (const timer of lateCopies) clearTimeout(timer);
					await Promise.all(storingCopies);
					await imapProxy?.close();
					await dovecot.stop();
					await releaseFolder(pidFile);
				})();
				await stopping;
			},
			killImap: async () => await dovecot.kill(),
			startImap: async () => await dovecot.start(),
			replaceKey: async (address, apiKey) => await dovecot.replaceKey(address, apiKey),
			depositInMaildir: async (address, raw) =>
				await dovecot.depositInMaildir(address, Buffer.isBuffer(raw) ? raw : Buffer.from(raw)),
			smtpEvents: () => readSmtpEvents(eventsFile),
			imapLogFile: dovecot.logFile,
			imapConnectionCount: async () => await countEstablishedConnections(info.imap.port),
			smtpFaults,
		};
	} finally {
		// A failed start undoes what it did; the error goes on to the caller.
		if (!started) {
			for (const step of undo) {
				await step().catch((cleanupError: Error) => {
					process.stderr.write(`sandbox cleanup after a failed start: ${cleanupError.message}\n`);
				});
			}
		}
	}
}

/**
 * Starts a sandbox in a fresh temporary folder on free ports, for tests and benchmarks that
 * need one of their own. The caller stops it and may remove `sandbox.dir`.
 */
export async function startTemporarySandbox(
	prefix = 'agentmail-sandbox-',
	extraInboxes: ExtraInboxes[] = [],
	profile?: SandboxProfile,
): Promise<Sandbox> {
	const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
	const [imapPort, smtpImplicitTlsPort, smtpStartTlsPort, lmtpPort] = await freePorts(4);
	return await startSandbox({
		dir,
		imapPort,
		smtpImplicitTlsPort,
		smtpStartTlsPort,
		lmtpPort,
		extraInboxes,
		profile,
	});
}
