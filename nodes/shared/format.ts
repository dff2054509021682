/** One MB as the nodes' options count it (MiB). */
export const MB = 1024 * 1024;

/** Formats a byte count for messages: "10.0 MB (10,485,761 bytes)". */
export function formatBytes(bytes: number): string {
	return `${(bytes / MB).toFixed(1)} MB (${bytes.toLocaleString('en-US')} bytes)`;
}
