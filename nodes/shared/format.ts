/** Formats a byte count for messages: "10.0 MB (10,485,761 bytes)". */
export function formatBytes(bytes: number): string {
	return `${(bytes / (1024 * 1024)).toFixed(1)} MB (${bytes.toLocaleString('en-US')} bytes)`;
}
