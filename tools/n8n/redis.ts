/**
 * A private Redis for n8n's queue mode: Debian's redis-server on a free port of 127.0.0.1, in a
 * temporary folder, nothing saved to disk. See startRedis().
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { settle } from '../../nodes/shared/async';
import { freePorts, portAnswers } from '../sandbox/ports';
import { findExecutable, startLogged, waitUntilReady } from './supervise';

/** redis-server is up in milliseconds; this leaves room for a loaded CI machine. */
const READY_TIMEOUT_MS = 30_000;
/** Pause between two looks at its port. */
const READY_POLL_INTERVAL_MS = 50;
/** Without persistence, SIGTERM ends it at once. */
const STOP_TIMEOUT_MS = 10_000;

const HOST = '127.0.0.1';

/** What installs redis-server on Debian/Ubuntu. */
export const REDIS_INSTALL_COMMAND =
	'apt-get install -y --no-install-recommends redis-server (Debian/Ubuntu)';

/** A running private Redis. */
export interface RedisServer {
	readonly host: string;
	readonly port: number;
	/** Its temporary folder (log file `redis.log`). */
	readonly dir: string;
	readonly pid: number;
	/** Stops it and removes its folder (unless `keep`). Safe to call twice. */
	stop(keep?: boolean): Promise<void>;
}

/** The environment that points n8n's queue (Bull) and pub/sub at this Redis. */
export function n8nRedisEnv(redis: RedisServer): Record<string, string> {
	return { QUEUE_BULL_REDIS_HOST: redis.host, QUEUE_BULL_REDIS_PORT: String(redis.port) };
}

/** Debian's redis-server, or the one on $PATH; undefined when it is not installed. */
export function findRedisServer(): string | undefined {
	return findExecutable(['redis-server', '/usr/bin/redis-server']);
}

/**
 * Starts redis-server on a free port of 127.0.0.1 in a fresh temporary folder, without
 * snapshots or an append-only file, and waits until it accepts connections.
 *
 * @throws when redis-server is not installed, saying how to install it.
 */
export async function startRedis(): Promise<RedisServer> {
	const binary = findRedisServer();
	if (!binary) {
		throw new Error(`redis-server is not installed: ${REDIS_INSTALL_COMMAND}`);
	}
	const dir = await mkdtemp(path.join(os.tmpdir(), 'agentmail-redis-'));
	const [port] = await freePorts(1);
	const args = [
		'--bind',
		HOST,
		'--port',
		String(port),
		'--dir',
		dir,
		'--save',
		'',
		'--appendonly',
		'no',
		'--daemonize',
		'no',
	];
	const server = startLogged(binary, args, {
		what: 'redis-server',
		logFile: path.join(dir, 'redis.log'),
		cwd: dir,
		stopTimeoutMs: STOP_TIMEOUT_MS,
	});
	let stopping: Promise<void> | undefined;
	const stop = async (keep = false): Promise<void> => {
		stopping ??= (async () => {
			await server.stop();
			if (!keep) await rm(dir, { recursive: true, force: true });
		})();
		await stopping;
	};
	const ready = await settle(
		waitUntilReady(server, {
			what: 'redis-server',
			probe: async () => await portAnswers(HOST, port),
			timeoutMs: READY_TIMEOUT_MS,
			pollIntervalMs: READY_POLL_INTERVAL_MS,
		}),
	);
	if (!ready.ok) {
		await stop();
		throw ready.error;
	}
	return { host: HOST, port, dir, pid: server.pid, stop };
}
