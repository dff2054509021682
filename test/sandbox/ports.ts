import { readFile } from 'node:fs/promises';
import net from 'node:net';
import tls from 'node:tls';

/** How long a single connection attempt may take when probing a port. */
const PORT_PROBE_TIMEOUT_MS = 1_000;
/** Pause between two probes while waiting for a port to open or to close. */
const PORT_POLL_INTERVAL_MS = 50;
/** TCP state "established" as written in /proc/net/tcp. */
const TCP_ESTABLISHED = '01';

/** Sleeps for `ms` milliseconds. */
export async function delay(ms: number): Promise<void> {
	await new Promise<void>((resolve) => setTimeout(resolve, ms));
}

/**
 * Finds `count` distinct TCP ports that are free on 127.0.0.1 right now (the kernel picks them),
 * so tests can start extra sandboxes next to each other.
 */
export async function freePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
	const servers: net.Server[] = [];
	try {
		const ports: number[] = [];
		// All listeners stay open until every port is known, so the kernel cannot hand out one twice.
		for (let i = 0; i < count; i++) {
			const server = net.createServer();
			servers.push(server);
			await new Promise<void>((resolve, reject) => {
				server.once('error', reject);
				server.listen(0, host, () => resolve());
			});
			ports.push((server.address() as net.AddressInfo).port);
		}
		return ports;
	} finally {
		await Promise.all(
			servers.map(
				async (server) => await new Promise<void>((resolve) => server.close(() => resolve())),
			),
		);
	}
}

/** Whether something accepts TCP connections on host:port. */
export async function portAnswers(host: string, port: number): Promise<boolean> {
	return await new Promise<boolean>((resolve) => {
		const socket = net.connect({ host, port });
		const finish = (answered: boolean) => {
			socket.destroy();
			resolve(answered);
		};
		socket.setTimeout(PORT_PROBE_TIMEOUT_MS, () => finish(false));
		socket.once('connect', () => finish(true));
		socket.once('error', () => finish(false));
	});
}

/** Runs `probe` every poll interval until it says yes; `check` may throw to give up early. */
async function pollUntil(
	probe: () => Promise<boolean>,
	timeoutMs: number,
	failure: string,
	check?: () => void,
): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		check?.();
		if (await probe()) return;
		if (Date.now() > deadline) throw new Error(failure);
		await delay(PORT_POLL_INTERVAL_MS);
	}
}

/**
 * Waits until host:port accepts connections. `check` runs before every probe and may throw to
 * give up early (for instance when the server process has already died).
 */
export async function waitForPort(
	host: string,
	port: number,
	timeoutMs: number,
	check?: () => void,
): Promise<void> {
	await pollUntil(
		async () => await portAnswers(host, port),
		timeoutMs,
		`nothing answered on ${host}:${port} within ${timeoutMs} ms`,
		check,
	);
}

/** How to reach a server whose greeting {@link waitForGreeting} waits for. */
export interface GreetingProbe {
	host: string;
	port: number;
	/** Connect with TLS on connect, verifying the server against this CA (PEM). */
	tlsCa?: Buffer;
	/** What the first line of a ready server looks like. */
	greeting: RegExp;
}

/** Connects once and tells whether the server sent its greeting. */
async function greets(probe: GreetingProbe): Promise<boolean> {
	return await new Promise<boolean>((resolve) => {
		const socket = probe.tlsCa
			? tls.connect({
					host: probe.host,
					port: probe.port,
					ca: probe.tlsCa,
					servername: 'localhost',
				})
			: net.connect({ host: probe.host, port: probe.port });
		let received = '';
		const finish = (ready: boolean) => {
			socket.destroy();
			resolve(ready);
		};
		socket.setTimeout(PORT_PROBE_TIMEOUT_MS, () => finish(false));
		socket.on('data', (chunk: Buffer) => {
			received += chunk.toString('latin1');
			// Wait for a whole line before judging it.
			if (received.includes('\n')) finish(probe.greeting.test(received));
		});
		socket.once('error', () => finish(false));
		socket.once('close', () => finish(false));
	});
}

/**
 * Waits until a server sends its greeting, which proves more than an open port: the process
 * behind it has read its configuration. `check` runs before every attempt and may throw.
 */
export async function waitForGreeting(
	probe: GreetingProbe,
	timeoutMs: number,
	check?: () => void,
): Promise<void> {
	await pollUntil(
		async () => await greets(probe),
		timeoutMs,
		`no greeting from ${probe.host}:${probe.port} within ${timeoutMs} ms`,
		check,
	);
}

/** Waits until host:port refuses connections. */
export async function waitForPortClosed(
	host: string,
	port: number,
	timeoutMs: number,
): Promise<void> {
	await pollUntil(
		async () => !(await portAnswers(host, port)),
		timeoutMs,
		`${host}:${port} still accepts connections after ${timeoutMs} ms`,
	);
}

/**
 * Counts established TCP connections whose local end is `port` (the server side of client
 * connections to a listener on that port), read from /proc/net/tcp like `ss` does.
 */
export async function countEstablishedConnections(port: number): Promise<number> {
	const table = await readFile('/proc/net/tcp', 'utf8');
	let count = 0;
	for (const line of table.split('\n').slice(1)) {
		const fields = line.trim().split(/\s+/);
		// Fields: sl, local_address (HEXIP:HEXPORT), rem_address, st, ...
		if (fields.length < 4) continue;
		const localPort = parseInt(fields[1].split(':')[1] ?? '', 16);
		if (localPort === port && fields[3] === TCP_ESTABLISHED) count++;
	}
	return count;
}
