/**
 * A TCP proxy in front of a real server that can go silent: existing connections stop
 * forwarding in both directions without closing (a half-open connection, as a NAT or firewall
 * that drops state leaves behind), while new connections still go through. It can also cut
 * the existing connections outright.
 */
import net from 'node:net';

export interface SilentProxy {
	port: number;
	/** Connections accepted so far. */
	readonly accepted: number;
	/** Existing connections stop forwarding; their sockets stay open. */
	freezeExisting(): void;
	/** Existing connections are closed on both sides, as a server restart or a NAT reset does. */
	dropExisting(): void;
	close(): Promise<void>;
}

export async function startProxy(targetHost: string, targetPort: number): Promise<SilentProxy> {
	const pairs = new Set<{ client: net.Socket; upstream: net.Socket; frozen: boolean }>();
	let accepted = 0;
	const server = net.createServer((client) => {
		accepted++;
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
			await new Promise<void>((resolve) => server.close(() => resolve()));
		},
	};
}
