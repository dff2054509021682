import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { chmod, chown, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import type { Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';

import type { Inbox } from './inboxes';
import { portAnswers, waitForGreeting, waitForPortClosed } from './ports';
import { processAlive, runCommand, signalProcess, startProcess } from './processes';
import type { TlsFiles } from './tls';

/** Dovecot is up in about 20 ms; this leaves room for a loaded CI machine. */
const DOVECOT_START_TIMEOUT_MS = 15_000;
/** SIGTERM to the master stops Dovecot in about 1 s. */
const DOVECOT_STOP_TIMEOUT_MS = 10_000;
/** After SIGKILL the kernel closes the listeners at once; this only guards against surprises. */
const DOVECOT_KILL_TIMEOUT_MS = 5_000;
/** apt-get update plus the install took about 15 s when measured. */
const APT_INSTALL_TIMEOUT_MS = 10 * 60_000;
/** One APPEND of at most 10 MB through a preauthenticated imap process. */
const SENT_APPEND_TIMEOUT_MS = 30_000;
/** Unix socket paths are limited to 108 bytes; Dovecot's socket names add up to ~25 more. */
const MAX_BASE_DIR_LENGTH = 80;
/** Dovecot's default is 10 per user and IP, too few for tests that open clients in parallel. */
const MAX_CONNECTIONS_PER_USER_AND_IP = 100;
/**
 * IMAP sessions the sandbox holds at once. Dovecot's defaults cap them at 100: every TLS
 * connection keeps an imap-login process as its TLS proxy (one per connection, at most
 * default_process_limit = 100 of them); the scale benchmark holds 200 triggers and more.
 * AgentMail publishes no connection limit, so the sandbox must not be the one that sets it.
 */
const MAX_IMAP_SESSIONS = 2_000;
/**
 * imap-login processes kept running: in Dovecot's "high-performance" login mode each serves
 * many connections, so one per core of a small machine is enough and no connection waits for a
 * process to be forked.
 */
const IMAP_LOGIN_PROCESSES = 2;
/**
 * Inotify instances the mail user may hold. Each IDLE session's imap process takes one to hear
 * of new mail at once; past Linux's default of 128 per user, Dovecot disables it for the
 * session ("Inotify instance limit ... exceeded") and looks for new mail only every 30 s
 * (mailbox_idle_check_interval): a scale test would measure that, not the clients.
 */
const MIN_INOTIFY_INSTANCES = 8_192;
/** Where Linux keeps that limit. */
const INOTIFY_INSTANCES_FILE = '/proc/sys/fs/inotify/max_user_instances';
/** Memory each imap-login process may map: it holds the TLS state of many connections. */
const IMAP_LOGIN_VSZ_LIMIT = '1G';
/** How much of the supervisor's stderr is kept for error messages. */
const STDERR_TAIL_BYTES = 4_096;
/** Lines of dovecot.log quoted when Dovecot fails to start. */
const LOG_TAIL_LINES = 20;

/** Installs what the sandbox needs on Debian/Ubuntu. */
export const DOVECOT_INSTALL_COMMAND =
	'apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends dovecot-imapd dovecot-lmtpd';
const DOVECOT_INSTALL_COMMAND_SUDO =
	'sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends dovecot-imapd dovecot-lmtpd';

/**
 * Runs Dovecot in the foreground under a tiny shell that stops it when its stdin closes, i.e.
 * when the Node process that owns the sandbox ends, however it ends (even SIGKILL), and that
 * exits itself when Dovecot exits. $1 = dovecot binary, $2 = config file. The watcher reads a
 * copy of stdin (fd 3) because a background job's own stdin is /dev/null.
 */
const SUPERVISOR_SCRIPT = [
	'exec 3<&0',
	'"$1" -F -c "$2" 3<&- & master=$!',
	'(read _ignored <&3; kill -TERM "$master" 2>/dev/null) & watcher=$!',
	'wait "$master"; status=$?',
	'kill "$watcher" 2>/dev/null',
	'exit "$status"',
].join('\n');

interface Binaries {
	dovecot: string;
	doveadm: string;
}

/** Which accounts the Dovecot processes run as. */
interface Accounts {
	internalUser: string;
	/** Group of the internal sockets; empty for Dovecot's default (the dovecot group). */
	internalGroup: string;
	loginUser: string;
	mailUid: number;
	mailGid: number;
	/** Group that may read the passwd-file (the auth process runs as internalUser). */
	authGid: number;
}

/** What a private Dovecot instance is made of. */
export interface DovecotSetup {
	/** The sandbox folder. */
	dir: string;
	host: string;
	imapPort: number;
	lmtpPort: number;
	tls: TlsFiles;
	inboxes: Inbox[];
	/** `imap_capability`: the whole list announced; default Dovecot's own. */
	capability?: string;
	/** Whether LIST marks the folders with special-use flags; default true. */
	specialUse?: boolean;
}

function findExecutable(name: string): string | undefined {
	const dirs = [
		...(process.env.PATH ?? '').split(path.delimiter),
		// Non-root shells often lack the sbin folders, where Debian puts dovecot.
		'/usr/sbin',
		'/usr/local/sbin',
		'/sbin',
		'/usr/bin',
	];
	for (const dir of dirs) {
		if (dir === '') continue;
		const candidate = path.join(dir, name);
		if (existsSync(candidate)) return candidate;
	}
	return undefined;
}

function findBinaries(): Binaries | undefined {
	const dovecot = findExecutable('dovecot');
	const doveadm = findExecutable('doveadm');
	return dovecot && doveadm ? { dovecot, doveadm } : undefined;
}

/**
 * Finds dovecot and doveadm. When they are missing: as root, installs them with apt-get;
 * otherwise fails with the command to run.
 */
export async function ensureDovecotInstalled(): Promise<Binaries> {
	const found = findBinaries();
	if (found) return found;
	if (process.getuid?.() !== 0) {
		throw new Error(
			`Dovecot is not installed. Install it with:\n  ${DOVECOT_INSTALL_COMMAND_SUDO}`,
		);
	}
	process.stderr.write(`Dovecot is not installed; running: ${DOVECOT_INSTALL_COMMAND}\n`);
	const result = await runCommand('/bin/sh', ['-c', DOVECOT_INSTALL_COMMAND], {
		timeoutMs: APT_INSTALL_TIMEOUT_MS,
		env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
		inheritOutput: true,
	});
	const installed = findBinaries();
	if (result.code !== 0 || !installed) {
		throw new Error(
			`installing Dovecot failed (exit code ${result.code}): ${DOVECOT_INSTALL_COMMAND}`,
		);
	}
	return installed;
}

function lookupAccount(file: '/etc/passwd' | '/etc/group', name: string): string[] | undefined {
	const line = readFileSync(file, 'utf8')
		.split('\n')
		.find((entry) => entry.startsWith(`${name}:`));
	return line?.split(':');
}

function userIds(name: string): { uid: number; gid: number } | undefined {
	const fields = lookupAccount('/etc/passwd', name);
	return fields ? { uid: Number(fields[2]), gid: Number(fields[3]) } : undefined;
}

function accounts(): Accounts {
	if (process.getuid?.() !== 0) {
		// Not root: Dovecot cannot switch users, so every process runs as the current user.
		const me = os.userInfo();
		const group = readFileSync('/etc/group', 'utf8')
			.split('\n')
			.map((line) => line.split(':'))
			.find((fields) => Number(fields[2]) === me.gid)?.[0];
		return {
			internalUser: me.username,
			internalGroup: group ?? String(me.gid),
			loginUser: me.username,
			mailUid: me.uid,
			mailGid: me.gid,
			authGid: me.gid,
		};
	}
	const internal = userIds('dovecot');
	const login = userIds('dovenull');
	// Debian's `mail` user owns the mail; a system without it still has `nobody`.
	const mail = userIds('mail') ?? userIds('nobody');
	if (!internal || !login || !mail) {
		throw new Error(
			'the users dovecot, dovenull and mail (or nobody) must exist; reinstall dovecot-core',
		);
	}
	return {
		internalUser: 'dovecot',
		internalGroup: '',
		loginUser: 'dovenull',
		mailUid: mail.uid,
		mailGid: mail.gid,
		authGid: internal.gid,
	};
}

/** Whether a folder can be entered by the given uid/gid according to its mode bits. */
function searchable(dir: string, uid: number, gid: number): boolean {
	const { mode, uid: owner, gid: group } = statSync(dir);
	if (owner === uid) return (mode & 0o100) !== 0;
	if (group === gid) return (mode & 0o010) !== 0;
	return (mode & 0o001) !== 0;
}

function parentPid(pid: number): number | undefined {
	try {
		const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
		// "pid (comm) state ppid ...": comm may hold spaces and parentheses, so cut at the last ')'.
		return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
	} catch {
		// The process ended while the table was being read.
		return undefined;
	}
}

/** All descendants of a process, read from /proc. */
function descendants(root: number): number[] {
	const children = new Map<number, number[]>();
	for (const entry of readdirSync('/proc')) {
		if (!/^\d+$/.test(entry)) continue;
		const pid = Number(entry);
		const parent = parentPid(pid);
		if (parent === undefined) continue;
		children.set(parent, [...(children.get(parent) ?? []), pid]);
	}
	const found: number[] = [];
	const queue = [root];
	while (queue.length > 0) {
		for (const child of children.get(queue.shift() as number) ?? []) {
			found.push(child);
			queue.push(child);
		}
	}
	return found;
}

async function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
	if (child.exitCode !== null || child.signalCode !== null) return true;
	return await new Promise<boolean>((resolve) => {
		const timer = setTimeout(() => resolve(false), timeoutMs);
		child.once('exit', () => {
			clearTimeout(timer);
			resolve(true);
		});
	});
}

/**
 * A private Dovecot instance: IMAPS (TLS on connect only) and LMTP on 127.0.0.1, config, state,
 * logs and maildirs inside the sandbox folder. Never touches /etc/dovecot or a system instance.
 */
/**
 * Raises the per-user inotify instance limit to MIN_INOTIFY_INSTANCES when it is lower (as
 * root; it only ever raises it, and it lasts until the next boot). Without root it says once
 * what IDLE does past the limit and how to raise it.
 */
let inotifyChecked = false;
async function ensureInotifyInstances(): Promise<void> {
	if (inotifyChecked) return;
	inotifyChecked = true;
	const current = Number((await readFile(INOTIFY_INSTANCES_FILE, 'utf8').catch(() => '')).trim());
	// Not Linux, or a kernel without the file: nothing to raise.
	if (!Number.isInteger(current) || current <= 0 || current >= MIN_INOTIFY_INSTANCES) return;
	// A container's /proc/sys is often read-only, even for root: then only the advice is left.
	const raised =
		process.getuid?.() === 0 &&
		(await writeFile(INOTIFY_INSTANCES_FILE, `${MIN_INOTIFY_INSTANCES}\n`).then(
			() => true,
			() => false,
		));
	if (raised) return;
	process.stderr.write(
		`sandbox: fs.inotify.max_user_instances is ${current}: IDLE sessions beyond about that many hear of new mail only every 30 s. ` +
			`To hold more: sudo sysctl fs.inotify.max_user_instances=${MIN_INOTIFY_INSTANCES}\n`,
	);
}

export class Dovecot {
	/** The generated dovecot.conf. */
	readonly conf: string;
	/** Dovecot's own log. */
	readonly logFile: string;
	private readonly confDir: string;
	private readonly baseDir: string;
	private readonly mailDir: string;
	private readonly usersFile: string;
	private readonly aclFile: string;
	private supervisor: ChildProcess | undefined;
	private stderrTail = '';

	private constructor(
		private readonly setup: DovecotSetup,
		private readonly binaries: Binaries,
		private readonly accounts: Accounts,
	) {
		this.confDir = path.join(setup.dir, 'dovecot');
		this.conf = path.join(this.confDir, 'dovecot.conf');
		this.logFile = path.join(this.confDir, 'dovecot.log');
		this.mailDir = path.join(setup.dir, 'mail');
		this.usersFile = path.join(this.confDir, 'users');
		this.aclFile = path.join(this.confDir, 'global-acl');
		const preferred = path.join(this.confDir, 'run');
		this.baseDir =
			preferred.length <= MAX_BASE_DIR_LENGTH
				? preferred
				: // A deep sandbox folder would overflow the unix socket path limit: use a short one.
					path.join(
						os.tmpdir(),
						`agentmail-sandbox-${createHash('sha256').update(setup.dir).digest('hex').slice(0, 12)}`,
					);
	}

	/** Finds (or installs) Dovecot and writes its configuration, users and ACL into the folder. */
	static async prepare(setup: DovecotSetup): Promise<Dovecot> {
		if (/[\s%"'\\]/.test(setup.dir)) {
			// Dovecot settings split on spaces and expand %-variables: such a path cannot be quoted.
			throw new Error(`the sandbox folder must not contain spaces, quotes, \\ or %: ${setup.dir}`);
		}
		const dovecot = new Dovecot(setup, await ensureDovecotInstalled(), accounts());
		await dovecot.writeFiles();
		return dovecot;
	}

	private async writeFiles(): Promise<void> {
		const { mailUid, mailGid } = this.accounts;
		const asRoot = process.getuid?.() === 0;
		await mkdir(this.confDir, { recursive: true });
		await mkdir(path.join(this.confDir, 'state'), { recursive: true });
		await mkdir(this.mailDir, { recursive: true, mode: 0o700 });
		if (asRoot) {
			// The mail user must reach <dir>/mail and the auth user <dir>/dovecot/users.
			await chmod(this.setup.dir, statSync(this.setup.dir).mode | 0o011);
			await chmod(this.confDir, 0o755);
			await chown(this.mailDir, mailUid, mailGid);
			for (let dir = path.dirname(this.setup.dir); ; dir = path.dirname(dir)) {
				if (!searchable(dir, mailUid, mailGid)) {
					throw new Error(
						`Dovecot's mail user (uid ${mailUid}) cannot enter ${dir}, a parent of the sandbox ` +
							`folder ${this.setup.dir}; set AGENTMAIL_SANDBOX_DIR to a folder under /tmp ` +
							`or run chmod o+x ${dir}`,
					);
				}
				if (dir === path.dirname(dir)) break;
			}
		}
		await this.writeUsers();
		// Drafts: lookup and read only, so nothing can be stored, copied, moved or flagged there,
		// nor can it be renamed or deleted. Every other folder keeps the owner's full rights.
		await this.writeAtomically(this.aclFile, 'Drafts owner lr\n', 0o644);
		await this.writeAtomically(this.conf, this.config(), 0o644);
	}

	/**
	 * Gives an inbox a new API key, as revoking its key in the AgentMail console does: Dovecot
	 * re-reads the passwd file at the next login; open sessions stay logged in.
	 */
	async replaceKey(address: string, apiKey: string): Promise<void> {
		const inbox = this.setup.inboxes.find((candidate) => candidate.address === address);
		if (!inbox) throw new Error(`${address} is not a sandbox inbox`);
		inbox.apiKey = apiKey;
		await this.writeUsers();
	}

	private async writeUsers(): Promise<void> {
		const { authGid } = this.accounts;
		const users = this.setup.inboxes
			.map(({ address, apiKey }) =>
				// passwd-file: user:password:uid:gid:gecos:home:shell:extra (uid/gid from mail_uid/gid)
				[address, `{PLAIN}${apiKey}`, '', '', '', path.join(this.mailDir, address), '', ''].join(
					':',
				),
			)
			.join('\n');
		await this.writeAtomically(this.usersFile, users + '\n', 0o640);
		if (process.getuid?.() === 0) await chown(this.usersFile, 0, authGid);
	}

	private async writeAtomically(file: string, content: string, mode: number): Promise<void> {
		const temporary = `${file}.${process.pid}.tmp`;
		await writeFile(temporary, content, { mode });
		await chmod(temporary, mode);
		await rename(temporary, file);
	}

	private config(): string {
		const { host, imapPort, lmtpPort, tls } = this.setup;
		const { internalUser, internalGroup, loginUser, mailUid, mailGid } = this.accounts;
		const asRoot = process.getuid?.() === 0;
		// Without root there is no chroot; Dovecot's defaults chroot these two services.
		const noChroot = asRoot ? '' : '\n  chroot =';
		const folder = (name: string, specialUse: string) =>
			this.setup.specialUse === false
				? `  mailbox ${name} {\n    auto = subscribe\n  }`
				: `  mailbox ${name} {\n    special_use = ${specialUse}\n    auto = subscribe\n  }`;
		const capability =
			this.setup.capability === undefined
				? ''
				: `# The profile's capability list, announced instead of Dovecot's own.\nimap_capability = ${this.setup.capability}\n`;
		return `# Generated by tools/sandbox/dovecot.ts for the AgentMail sandbox; rewritten on every start.
protocols = imap lmtp
listen = ${host}
base_dir = ${this.baseDir}
state_dir = ${path.join(this.confDir, 'state')}
instance_name = agentmail-sandbox
log_path = ${this.logFile}
# No statistics: nothing reads them, and a stats process still starting holds up a stop by 5 s.
stats_writer_socket_path =
login_greeting = AgentMail sandbox ready.

ssl = required
ssl_cert = <${tls.cert}
ssl_key = <${tls.key}
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = yes
auth_mechanisms = plain login
${capability}
default_internal_user = ${internalUser}${internalGroup && `\ndefault_internal_group = ${internalGroup}`}
default_login_user = ${loginUser}
mail_uid = ${mailUid}
mail_gid = ${mailGid}
first_valid_uid = ${mailUid}
last_valid_uid = 0
# Dovecot's default is 1; a mail group 0 (possible for a non-root user) must stay allowed.
first_valid_gid = ${Math.min(mailGid, 1)}
mail_location = maildir:~/Maildir
mail_max_userip_connections = ${MAX_CONNECTIONS_PER_USER_AND_IP}
mail_plugins = acl

plugin {
  acl = vfile:${this.aclFile}
}

namespace inbox {
  inbox = yes
  separator = /
${folder('Sent', '\\Sent')}
${folder('Trash', '\\Trash')}
${folder('Spam', '\\Junk')}
${folder('Drafts', '\\Drafts')}
}

passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${this.usersFile}
}
userdb {
  driver = passwd-file
  args = username_format=%u ${this.usersFile}
}

service imap-login {
  inet_listener imap {
    port = 0
  }
  inet_listener imaps {
    address = ${host}
    port = ${imapPort}
    ssl = yes
  }${noChroot}
  # High-performance login mode: a few processes proxy every TLS connection (see dovecot.ts).
  service_count = 0
  process_min_avail = ${IMAP_LOGIN_PROCESSES}
  client_limit = ${MAX_IMAP_SESSIONS}
  vsz_limit = ${IMAP_LOGIN_VSZ_LIMIT}
}
service imap {
  process_limit = ${MAX_IMAP_SESSIONS}
}
service lmtp {
  inet_listener lmtp {
    address = ${host}
    port = ${lmtpPort}
  }
}
service anvil {${noChroot}
  # No auth penalty: tests try wrong keys on purpose, and the growing delay Dovecot puts on
  # 127.0.0.1 afterwards would slow down every later login of the whole run. Mode 0 means this
  # socket is not created, so the auth process runs without penalties (failures still wait 2 s).
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
`;
	}

	/** Starts Dovecot and waits until IMAPS and LMTP accept connections. */
	async start(): Promise<void> {
		// Already running: starting twice would only fail on the busy ports.
		if (this.supervisor) return;
		await this.killOrphan();
		await ensureInotifyInstances();
		// Runtime files only (sockets, pid file): stale ones left by a killed Dovecot can stall the
		// new one (a dead anvil-auth-penalty socket costs the auth process a 5 s connect retry).
		await rm(this.baseDir, { recursive: true, force: true });
		const { host, imapPort, lmtpPort, tls } = this.setup;
		for (const port of [imapPort, lmtpPort]) {
			if (await portAnswers(host, port)) {
				throw new Error(`port ${host}:${port} is already in use; Dovecot cannot listen on it`);
			}
		}
		const child = startProcess(
			'/bin/sh',
			['-c', SUPERVISOR_SCRIPT, 'agentmail-sandbox-dovecot', this.binaries.dovecot, this.conf],
			// Own process group: a Ctrl-C in the terminal reaches the sandbox runner, which stops
			// Dovecot in order, rather than Dovecot directly.
			{ detached: true, stdio: ['pipe', 'ignore', 'pipe'] },
		);
		this.supervisor = child;
		this.stderrTail = '';
		child.stderr?.on('data', (chunk: Buffer) => {
			this.stderrTail = (this.stderrTail + chunk.toString()).slice(-STDERR_TAIL_BYTES);
		});
		// Writing to a supervisor that died is reported by its exit, not by the pipe.
		child.stdin?.on('error', () => undefined);
		// A sandbox that is never stopped must not keep its process alive; Dovecot then stops
		// with it, since the supervisor's stdin closes.
		child.unref();
		(child.stdin as Socket | null)?.unref();
		(child.stderr as Socket | null)?.unref();
		const alive = () => {
			if (child.exitCode !== null || child.signalCode !== null) {
				throw new Error('dovecot exited during startup');
			}
		};
		// Greetings rather than open ports: a login or lmtp process still reading its config
		// when Dovecot is told to stop holds the stop up by seconds.
		const tlsCa = await readFile(tls.ca);
		const imap = { host, port: imapPort, tlsCa, greeting: /^\* OK/ };
		const lmtp = { host, port: lmtpPort, greeting: /^220 / };
		const failure = await waitForGreeting(imap, DOVECOT_START_TIMEOUT_MS, alive)
			.then(async () => await waitForGreeting(lmtp, DOVECOT_START_TIMEOUT_MS, alive))
			.then(
				() => undefined,
				(error: Error) => error,
			);
		if (failure) {
			await this.kill();
			throw new Error(`Dovecot did not start: ${failure.message}\n${await this.diagnostics()}`);
		}
	}

	/** Stops Dovecot with SIGTERM and waits until its ports are closed. */
	async stop(): Promise<void> {
		const child = this.supervisor;
		if (!child) return;
		child.stdin?.end();
		if (!(await waitForExit(child, DOVECOT_STOP_TIMEOUT_MS))) {
			// Dovecot hung while shutting down: take it down hard.
			await this.kill();
			return;
		}
		this.supervisor = undefined;
		await this.waitForPortsClosed(DOVECOT_STOP_TIMEOUT_MS);
	}

	/** SIGKILLs the Dovecot master and all its children at once (a simulated server crash). */
	async kill(): Promise<void> {
		const child = this.supervisor;
		if (!child) return;
		if (child.pid !== undefined) {
			const victims = descendants(child.pid).filter((pid) => pid !== child.pid);
			for (const pid of victims) signalProcess(pid, 'SIGKILL');
		}
		child.stdin?.end();
		if (!(await waitForExit(child, DOVECOT_KILL_TIMEOUT_MS))) child.kill('SIGKILL');
		this.supervisor = undefined;
		await this.waitForPortsClosed(DOVECOT_KILL_TIMEOUT_MS);
	}

	/**
	 * Drops a message straight into an inbox's maildir (`new/`), as a local delivery agent does,
	 * without any Dovecot process: mail that arrives while the IMAP server is down. Dovecot gives
	 * it a UID when it next looks at the folder.
	 */
	async depositInMaildir(address: string, raw: Buffer): Promise<void> {
		const folder = path.join(this.mailDir, address, 'Maildir');
		const name = `${Date.now()}.${process.pid}_${Math.random().toString(36).slice(2)}.sandbox`;
		await mkdir(path.join(folder, 'tmp'), { recursive: true });
		await mkdir(path.join(folder, 'new'), { recursive: true });
		// Written in tmp/ then renamed into new/: a reader never sees half a message.
		await writeFile(path.join(folder, 'tmp', name), raw, { mode: 0o600 });
		if (process.getuid?.() === 0) {
			const { mailUid, mailGid } = this.accounts;
			await chown(path.join(folder, 'tmp', name), mailUid, mailGid);
			for (const dir of [
				this.mailDir,
				path.join(this.mailDir, address),
				folder,
				path.join(folder, 'tmp'),
				path.join(folder, 'new'),
			]) {
				await chown(dir, mailUid, mailGid);
			}
		}
		await rename(path.join(folder, 'tmp', name), path.join(folder, 'new', name));
	}

	/**
	 * Stores a message in an inbox's Sent folder flagged \Seen, through a preauthenticated
	 * Dovecot imap process (a real IMAP APPEND that opens no TCP connection, so it never shows
	 * up in connection counts).
	 */
	async appendToSent(address: string, raw: Buffer): Promise<void> {
		const input = Buffer.concat([
			Buffer.from(`a APPEND Sent (\\Seen) {${raw.length}+}\r\n`),
			raw,
			Buffer.from('\r\nb LOGOUT\r\n'),
		]);
		// Dovecot's imap wants real pipes: a socket on stdout (Node hands children socket pairs)
		// makes it take itself for an inetd start and refuse, and a file on stdin cannot be polled.
		// `cat` on either side turns Node's sockets into pipes.
		const result = await runCommand(
			'/bin/sh',
			[
				'-c',
				'cat | "$0" -c "$1" exec imap -u "$2" | cat',
				this.binaries.doveadm,
				this.conf,
				address,
			],
			{ input, timeoutMs: SENT_APPEND_TIMEOUT_MS },
		);
		const answer = result.stdout.toString('latin1');
		const tagged = /^a (OK|NO|BAD)\b.*$/m.exec(answer);
		if (tagged?.[1] !== 'OK') {
			const why =
				tagged?.[0] ??
				(result.stderr.toString().trim() || answer.trim() || `exit code ${result.code}`);
			throw new Error(`copying the message to Sent of ${address} failed: ${why}`);
		}
	}

	private async waitForPortsClosed(timeoutMs: number): Promise<void> {
		await waitForPortClosed(this.setup.host, this.setup.imapPort, timeoutMs);
		await waitForPortClosed(this.setup.host, this.setup.lmtpPort, timeoutMs);
	}

	/** Kills a Dovecot left running from this folder by a runner that died without cleaning up. */
	private async killOrphan(): Promise<void> {
		const pidFile = path.join(this.baseDir, 'master.pid');
		if (!existsSync(pidFile)) return;
		const pid = Number((await readFile(pidFile, 'utf8')).trim());
		if (!Number.isInteger(pid) || pid <= 0 || !processAlive(pid)) return;
		let commandLine = '';
		try {
			commandLine = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
		} catch {
			// It ended meanwhile.
			return;
		}
		// A recycled pid that is not our Dovecot must be left alone.
		if (!commandLine.includes(this.conf)) return;
		for (const victim of [pid, ...descendants(pid)]) signalProcess(victim, 'SIGKILL');
		await this.waitForPortsClosed(DOVECOT_KILL_TIMEOUT_MS);
	}

	private async diagnostics(): Promise<string> {
		let log = '';
		if (existsSync(this.logFile)) {
			log = (await readFile(this.logFile, 'utf8'))
				.trim()
				.split('\n')
				.slice(-LOG_TAIL_LINES)
				.join('\n');
		}
		return [this.stderrTail.trim(), log && `${this.logFile}:\n${log}`].filter(Boolean).join('\n');
	}
}
