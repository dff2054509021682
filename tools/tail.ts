/**
 * When each line of a log was written, for logs that carry no (or only whole-second)
 * timestamps: n8n's at info level and Dovecot's. The file is read every few milliseconds from
 * where it ended when the clock started, and each complete new line is stamped with the time
 * it was read.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';

/** How often the file is read: the stamps are late by at most this (plus the writer's flush). */
const POLL_MS = 20;
/** Bytes read per call. */
const CHUNK_BYTES = 1024 * 1024;

export interface StampedLine {
	at: number;
	text: string;
}

export class LineClock {
	/** Every complete line since the clock started, in order. */
	readonly lines: StampedLine[] = [];
	/** Where the next read starts. */
	private offset: number;
	/** The end of the last read when it was not a whole line yet. */
	private partial = '';
	private readonly timer: NodeJS.Timeout;
	/** Reused by every read: one poll every 20 ms must not allocate a megabyte each time. */
	private readonly buffer = Buffer.allocUnsafe(CHUNK_BYTES);

	constructor(private readonly file: string) {
		this.offset = statSync(file).size;
		this.timer = setInterval(() => this.read(), POLL_MS);
	}

	private read(): void {
		const at = Date.now();
		const fd = openSync(this.file, 'r');
		try {
			for (;;) {
				const bytes = readSync(fd, this.buffer, 0, CHUNK_BYTES, this.offset);
				if (bytes === 0) break;
				this.offset += bytes;
				const parts = (this.partial + this.buffer.subarray(0, bytes).toString('utf8')).split('\n');
				this.partial = parts.pop() ?? '';
				for (const text of parts) this.lines.push({ at, text });
			}
		} finally {
			closeSync(fd);
		}
	}

	/** Reads what is left and stops. */
	stop(): StampedLine[] {
		clearInterval(this.timer);
		this.read();
		return this.lines;
	}

	/** When the lines that match were read, in order. */
	times(pattern: RegExp, since = -Infinity): number[] {
		return this.lines
			.filter((line) => line.at >= since && pattern.test(line.text))
			.map((line) => line.at);
	}
}
