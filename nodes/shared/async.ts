/**
 * Small promise helpers shared by the IMAP and SMTP modules, and the logger shape they accept.
 */

/** The logging the protocol modules do; n8n's logger fits. */
export interface PackageLogger {
	debug(message: string, meta?: Record<string, unknown>): void;
	info(message: string, meta?: Record<string, unknown>): void;
	warn(message: string, meta?: Record<string, unknown>): void;
	error(message: string, meta?: Record<string, unknown>): void;
}

/** Logs nothing (the default where no logger is given). */
export const silentLogger: PackageLogger = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * Rejects with an `ETIMEDOUT` error (`<what> got no answer within <ms> ms`) when `promise` has
 * not settled within `ms`; `onTimeout` runs first, e.g. to close the connection it waits on.
 */
export function withTimeout<T>(
	promise: Promise<T>,
	ms: number,
	what: string,
	onTimeout?: () => void,
): Promise<T> {
	let timer: NodeJS.Timeout | undefined;
	const deadline = new Promise<never>((_, reject) => {
		timer = setTimeout(() => {
			onTimeout?.();
			reject(
				Object.assign(new Error(`${what} got no answer within ${ms} ms`), { code: 'ETIMEDOUT' }),
			);
		}, ms);
	});
	return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** A promise's outcome as a value, so failures are handled where they are expected. */
export async function settle<T>(
	promise: Promise<T>,
): Promise<{ ok: true; value: T; error?: undefined } | { ok: false; error: unknown }> {
	try {
		return { ok: true, value: await promise };
	} catch (error) {
		return { ok: false, error };
	}
}
