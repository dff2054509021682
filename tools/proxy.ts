/**
 * A TCP proxy in front of a real server that can go silent: existing connections stop
 * forwarding in both directions without closing (a half-open connection, as a NAT or firewall
 * that drops state leaves behind), while new connections still go through. It can also cut
 * the existing connections outright, and cut or hold new ones (the network gone).
 */
import net from 'node:net';

/**
 * What happens to a new connection: forwarded; cut at once (closed before any byte); or held:
 * accepted, never forwarded, never closed (a server that does not answer).
 */
export type NewConnections = 'forward' | 'cut' | 'hold';

export interface SilentProxy {
	port: number;
	/** Connections accepted so far. */
	readonly accepted: number;
	/** Accepted connections whose client side is still open: the client has not closed them. */
	readonly open: number;
	/** What happens to connections accepted from now on; default 'forward'. */
	newConnections: NewConnections;
	/** Existing connections stop forwarding; their sockets stay open. */
	freezeExisting(): void;
	/** Existing connections are closed on both sides, as a server restart or a NAT reset does. */
	dropExisting(): void;
	close(): Promise<void>;
}

export async function startProxy(targetHost: string, targetPort: number): Promise<SilentProxy> {
	const pairs = new Set<{ client: net.Socket; upstream: net.Socket; frozen: boolean }>();
	const clients = new Set<net.Socket>();
	let accepted = 0;
	let newConnections: NewConnections = 'forward';
	const server = net.createServer((client) => {
		accepted++;
		clients.add(client);
		client.on('close', () => clients.delete(client));
		client.on('error', () => undefined);
		if (newConnections === 'cut') {
			client.destroy();
			return;
		}
		if (newConnections === 'hold') {
			// Read and dropped: a paused socket would never notice the client closing it.
			client.resume();
			return;
		}
		const upstream = net.connect(targetPort, targetHost);
		const pair = { client, upstream, frozen: false };
		pairs.add(pair);
		client.on('data', (chunk) => {
			if (!pair.frozen) upstream.write(chunk);
		});
		upstream.on('data', (chunk) => {
			if (!pair.frozen) client.write(chunk);
		});
		const end = () => {
			pairs.delete(pair);
			client.destroy();
			upstream.destroy();
		};
		// A frozen pair ignores closes too: the other side must not learn anything.
		client.on('close', () => !pair.frozen && end());
		upstream.on('close', () => !pair.frozen && end());
		client.on('error', () => undefined);
		upstream.on('error', () => undefined);
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	return {
		port: (server.address() as net.AddressInfo).port,
		get accepted() {
			return accepted;
		},
		get open() {
			return clients.size;
		},
		get newConnections() {
			return newConnections;
		},
		set newConnections(mode: NewConnections) {
			newConnections = mode;
		},
		freezeExisting() {
			for (const pair of pairs) pair.frozen = true;
		},
		dropExisting() {
			for (const { client, upstream } of pairs) {
				client.destroy();
				upstream.destroy();
			}
		},
		async close() {
			for (const { client, upstream } of pairs) {
				client.destroy();
				upstream.destroy();
			}
			for (const client of clients) client.destroy();
			await new Promise<void>((resolve) => server.close(() => resolve()));
		},
	};
}
