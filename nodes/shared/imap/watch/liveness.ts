/**
 * Liveness of one IMAP session's connection: a half-open connection (the server gone without a
 * word) never answers, so a timed NOOP finds it, and a catch-up that stops moving is a stall.
 * Either way the connection is closed, and the session's reconnect replaces it.
 */
import type { ImapFlow } from 'imapflow';

import { withTimeout, type PackageLogger } from '../../async';

/** Default window within which a silently dead connection is noticed. */
export const DEFAULT_LIVENESS_WINDOW_MS = 60_000;

/** What the check needs of its session. */
export interface LivenessHost {
	/** The connection in use now; a check of an older one stops. */
	current(): ImapFlow | undefined;
	/** The catch-up, judged by its progress while it runs (a NOOP would queue behind it). */
	catchUp: { readonly running: boolean; readonly progress: number };
	/** Idles again after the NOOP. */
	idle(client: ImapFlow): void;
	/** Told why the connection is about to be closed (the outage report names it). */
	closing?(reason: string): void;
	logger: PackageLogger;
	/** Server and folder, for the log lines. */
	where: string;
}

/** A timed NOOP every half window: a half-open connection never answers and is replaced. */
export function watchLiveness(
	client: ImapFlow,
	windowMs: number,
	host: LivenessHost,
): NodeJS.Timeout {
	let progressAtLastTick = -1;
	return setInterval(
		async () => {
			if (client !== host.current()) return;
			if (host.catchUp.running) {
				// A NOOP would queue behind the catch-up: judge it by whether it moves instead.
				if (host.catchUp.progress === progressAtLastTick) {
					host.logger.info(`IMAP catch-up from ${host.where} stalled; replacing the connection`);
					host.closing?.('the catch-up stalled: the server stopped sending');
					client.close();
				}
				progressAtLastTick = host.catchUp.progress;
				return;
			}
			progressAtLastTick = -1;
			try {
				await withTimeout(client.noop(), Math.floor(windowMs / 4), 'NOOP');
				host.idle(client);
			} catch (error) {
				if (client !== host.current()) return;
				host.logger.info(
					`IMAP connection to ${host.where} stalled (${(error as Error).message}); replacing it`,
				);
				host.closing?.(`the connection stopped answering (${(error as Error).message})`);
				client.close();
			}
		},
		Math.floor(windowMs / 2),
	);
}
