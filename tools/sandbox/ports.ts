import { setTimeout as sleep } from 'node:timers/promises';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import tls from 'node:tls';

/** How long a single connection attempt may take when probing a port. */
const PORT_PROBE_TIMEOUT_MS = 1_000;
/** Pause between two probes while waiting for a port to open or to close. */
const PORT_POLL_INTERVAL_MS = 50;
/** TCP state "established" as written in /proc/net/tcp. */
const TCP_ESTABLISHED = '01';

/**
 * Linux's default lowest port for outgoing connections and `listen(0)`, if /proc says nothing.
 */
const DEFAULT_EPHEMERAL_LOW = 32_768;
/** How many ports just below the ephemeral range {@link freePorts} hands out. */
const HANDED_OUT_SPAN = 16_384;
/** Lowest port ever handed out: below it live well-known services (Redis, PostgreSQL, ...). */
const LOWEST_PORT = 1_024;
/** Slices of the span: slice 0 for a process outside jest, slice N for jest worker N. */
const SLICES = 8;

/** The lowest port of the kernel's ephemeral range, read from /proc. */
async function ephemeralLow(): Promise<number> {
	const text = await readFile('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').catch(() => '');
	const low = Number(text.trim().split(/\s+/)[0]);
	return Number.isInteger(low) && low > 0 ? low : DEFAULT_EPHEMERAL_LOW;
}

/** Listens on host:port, or answers undefined when the port is taken. */
async function tryListen(host: string, port: number): Promise<net.Server | undefined> {
	const server = net.createServer();
	return await new Promise<net.Server | undefined>((resolve) => {
		server.once('error', () => resolve(undefined));
		server.listen(port, host, () => resolve(server));
	});
}

/** Gives the next candidate port of this process's slice, or 0 (the kernel chooses). */
let candidates: Promise<() => number> | undefined;

async function makeCandidates(): Promise<() => number> {
	const low = (await ephemeralLow()) - HANDED_OUT_SPAN;
	// An unusual ephemeral range leaves no quiet ports below it: let the kernel choose instead.
	if (low < LOWEST_PORT) return () => 0;
	const sliceSize = Math.floor(HANDED_OUT_SPAN / SLICES);
	const slice = Number(process.env.JEST_WORKER_ID ?? 0) % SLICES;
	const sliceLow = low + slice * sliceSize;
	// A random start, then in order: two runs of one script seldom begin on the same port.
	let offset = Math.floor(Math.random() * sliceSize);
	return () => {
		offset = (offset + 1) % sliceSize;
		return sliceLow + offset;
	};
}

/**
 * Finds `count` distinct TCP ports that are free on 127.0.0.1 right now, so tests can start
 * extra servers next to each other.
 *
 * The ports come from just below the kernel's ephemeral range, never from it: a port in that
 * range that is free now can be taken by any outgoing connection (a test opens hundreds a
 * second) before the server meant for it starts, and n8n then fails with "port already in use".
 * Each jest worker draws from a slice of its own, so parallel test files do not pick the same
 * port either, and one process hands out its slice in order before it repeats a port.
 */
export async function freePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
	const servers: net.Server[] = [];
	try {
		candidates ??= makeCandidates();
		const next = await candidates;
		const ports: number[] = [];
		// All listeners stay open until every port is known, so none is handed out twice.
		for (let attempt = 0; ports.length < count; attempt++) {
			if (attempt >= HANDED_OUT_SPAN / SLICES) {
				throw new Error(`found only ${ports.length} of ${count} free TCP ports on ${host}`);
			}
			const server = await tryListen(host, next());
			if (!server) continue;
			servers.push(server);
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
		await sleep(PORT_POLL_INTERVAL_MS);
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
