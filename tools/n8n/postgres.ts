/**
 * A private PostgreSQL cluster for n8n's queue mode, where a main process and its workers share
 * one database: Debian's PostgreSQL server binaries, a cluster made by initdb in a temporary
 * folder, listening on a free port of 127.0.0.1 only (no Unix socket), with a password made up
 * at run time. Tuned for tests (no fsync): its data is thrown away. See startPostgres().
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { settle } from '../../nodes/shared/async';
import { freePorts } from '../sandbox/ports';
import { runCommand } from '../sandbox/processes';
import { findExecutable, startLogged, waitUntilReady } from './supervise';

/** initdb writes a small cluster in a few seconds (without fsync). */
const INITDB_TIMEOUT_MS = 120_000;
/** A fresh cluster accepts connections within a second; room for a loaded CI machine. */
const READY_TIMEOUT_MS = 60_000;
/** Pause between two looks at its log. */
const READY_POLL_INTERVAL_MS = 100;
/** A fast shutdown (SIGINT) ends the sessions and writes a checkpoint: about a second. */
const STOP_TIMEOUT_MS = 30_000;

const HOST = '127.0.0.1';
/** The cluster's superuser; n8n logs in as it. */
const USER = 'n8n';
/** The database initdb creates; n8n's tables go into it. */
const DATABASE = 'postgres';
/** What the server logs once it takes connections. */
const READY_LINE = 'database system is ready to accept connections';
/** Where Debian's postgresql-<version> packages put the server binaries. */
const DEBIAN_POSTGRES_DIR = '/usr/lib/postgresql';

/** What installs the PostgreSQL server on Debian/Ubuntu. */
export const POSTGRES_INSTALL_COMMAND =
	'apt-get install -y --no-install-recommends postgresql (Debian/Ubuntu)';

/** A running private PostgreSQL. */
export interface PostgresServer {
	readonly host: string;
	readonly port: number;
	readonly user: string;
	/** Made up at run time; never logged. */
	readonly password: string;
	readonly database: string;
	/** Its temporary folder (cluster in `data/`, log file `postgres.log`). */
	readonly dir: string;
	readonly pid: number;
	/** Stops it (fast shutdown) and removes its folder (unless `keep`). Safe to call twice. */
	stop(keep?: boolean): Promise<void>;
}

/** The environment that makes n8n use this PostgreSQL as its database. */
export function n8nPostgresEnv(postgres: PostgresServer): Record<string, string> {
	return {
		DB_TYPE: 'postgresdb',
		DB_POSTGRESDB_HOST: postgres.host,
		DB_POSTGRESDB_PORT: String(postgres.port),
		DB_POSTGRESDB_DATABASE: postgres.database,
		DB_POSTGRESDB_USER: postgres.user,
		DB_POSTGRESDB_PASSWORD: postgres.password,
	};
}

/** The folder with initdb and postgres: Debian's newest version, else found on $PATH. */
function findBinaries(): { initdb: string; postgres: string } | undefined {
	const versions = existsSync(DEBIAN_POSTGRES_DIR)
		? readdirSync(DEBIAN_POSTGRES_DIR)
				.filter((entry) => /^\d+$/.test(entry))
				.sort((a, b) => Number(b) - Number(a))
		: [];
	const candidates = versions.map((version) => path.join(DEBIAN_POSTGRES_DIR, version, 'bin'));
	for (const bin of candidates) {
		const initdb = findExecutable([path.join(bin, 'initdb')]);
		const postgres = findExecutable([path.join(bin, 'postgres')]);
		if (initdb && postgres) return { initdb, postgres };
	}
	const initdb = findExecutable(['initdb']);
	const postgres = findExecutable(['postgres']);
	return initdb && postgres ? { initdb, postgres } : undefined;
}

/** Whether the PostgreSQL server binaries (initdb and postgres) are installed. */
export function postgresInstalled(): boolean {
	return findBinaries() !== undefined;
}

/**
 * Who runs the server: PostgreSQL refuses to run as root, so root hands it to the `postgres`
 * account that Debian's package creates; anyone else runs it as themselves.
 */
function serverAccount(): { uid: number; gid: number } | undefined {
	if (process.getuid?.() !== 0) return undefined;
	const line = readFileSync('/etc/passwd', 'utf8')
		.split('\n')
		.find((entry) => entry.startsWith('postgres:'));
	const [, , uid, gid] = line?.split(':') ?? [];
	if (uid === undefined || gid === undefined) {
		throw new Error(
			`PostgreSQL does not run as root and there is no postgres account to run it as: ${POSTGRES_INSTALL_COMMAND}, or run as another user`,
		);
	}
	return { uid: Number(uid), gid: Number(gid) };
}

/**
 * Creates a cluster in a fresh temporary folder and starts it on a free port of 127.0.0.1;
 * waits until it takes connections.
 *
 * @throws when the PostgreSQL server is not installed, saying how to install it.
 */
export async function startPostgres(): Promise<PostgresServer> {
	const binaries = findBinaries();
	if (!binaries) throw new Error(`PostgreSQL is not installed: ${POSTGRES_INSTALL_COMMAND}`);
	const account = serverAccount();
	const dir = await mkdtemp(path.join(os.tmpdir(), 'agentmail-postgres-'));
	const removeDir = async () => await rm(dir, { recursive: true, force: true });
	const started = await settle(startCluster(binaries, account, dir));
	if (!started.ok) {
		await removeDir();
		throw started.error;
	}
	const { server, port, password } = started.value;
	let stopping: Promise<void> | undefined;
	const stop = async (keep = false): Promise<void> => {
		stopping ??= (async () => {
			await server.stop();
			if (!keep) await removeDir();
		})();
		await stopping;
	};
	return { host: HOST, port, user: USER, password, database: DATABASE, dir, pid: server.pid, stop };
}

async function startCluster(
	binaries: { initdb: string; postgres: string },
	account: { uid: number; gid: number } | undefined,
	dir: string,
) {
	if (account) await chown(dir, account.uid, account.gid);
	const password = randomBytes(18).toString('hex');
	const passwordFile = path.join(dir, 'password');
	await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
	if (account) await chown(passwordFile, account.uid, account.gid);
	const data = path.join(dir, 'data');
	const initdb = await runCommand(
		binaries.initdb,
		[
			'--pgdata',
			data,
			'--username',
			USER,
			'--pwfile',
			passwordFile,
			'--auth',
			'scram-sha-256',
			'--encoding',
			'UTF8',
			'--locale',
			'C',
			'--no-sync',
		],
		{ cwd: dir, ...account, timeoutMs: INITDB_TIMEOUT_MS },
	);
	await rm(passwordFile, { force: true });
	if (initdb.code !== 0) {
		throw new Error(
			`initdb failed (exit ${initdb.code}):\n${initdb.stdout.toString()}\n${initdb.stderr.toString()}`,
		);
	}

	const [port] = await freePorts(1);
	const logFile = path.join(dir, 'postgres.log');
	const args = [
		'-D',
		data,
		'-p',
		String(port),
		'-c',
		`listen_addresses=${HOST}`,
		// TCP only: no socket in /var/run/postgresql, which may not exist or be writable.
		'-c',
		'unix_socket_directories=',
		// Throwaway data: durability only costs time here.
		'-c',
		'fsync=off',
		'-c',
		'synchronous_commit=off',
		'-c',
		'full_page_writes=off',
	];
	const server = startLogged(binaries.postgres, args, {
		what: 'postgres',
		logFile,
		cwd: dir,
		...account,
		// SIGINT is PostgreSQL's fast shutdown: sessions are ended, nothing is waited for.
		stopSignal: 'SIGINT',
		stopTimeoutMs: STOP_TIMEOUT_MS,
	});
	const ready = await settle(
		waitUntilReady(server, {
			what: 'postgres',
			probe: async () => server.logTail(Infinity).includes(READY_LINE),
			timeoutMs: READY_TIMEOUT_MS,
			pollIntervalMs: READY_POLL_INTERVAL_MS,
		}),
	);
	if (!ready.ok) {
		await server.stop();
		throw ready.error;
	}
	return { server, port, password };
}
