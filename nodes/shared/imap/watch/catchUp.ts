/**
 * The catch-up of one IMAP session: everything past the watermark, listed, fetched chunk by
 * chunk and handed over in UID order, one message at a time; a lone arrival announced while
 * idle is fetched whole in one FETCH. One pass at a time: news during a pass asks for another.
 * A message that cannot be handed over leaves the watermark before it (./handOver).
 */
import type { FetchMessageObject, ImapFlow } from 'imapflow';

import { settle, type PackageLogger } from '../../async';
import { errorText, HandOverError } from '../../errors';
import type { FetchedMessage } from '../../fetchedMessage';
import { chunkPlan, FETCH_CHUNK_BYTES, type PlannedMessage } from '../../fetchPlan';
import type { Cursor } from './cursor';
import { HandOverRetry } from './handOver';

/** Messages fetched per FETCH command; with FETCH_CHUNK_BYTES it bounds memory on a backlog. */
const DEFAULT_FETCH_CHUNK_MESSAGES = 50;

/** What a catch-up takes from the session's options. */
export interface CatchUpOptions {
	folder: string;
	/**
	 * Called for each new message in UID order, after the cursor has moved past it; the next
	 * message waits for it. A throw means the message was not handed over: the cursor goes back
	 * before it and it is tried again later, on the same connection (see ./handOver). So a
	 * message that can never be handed over must be handed over some other way (headers only).
	 */
	onMessage: (message: FetchedMessage) => Promise<void> | void;
	/** Called after each catch-up pass, once everything known is handed over (batch flushing). */
	onCaughtUp?: () => Promise<void> | void;
	/** Messages over this many bytes are handed over with headers only. */
	maxMessageBytes?: number;
	/** Messages per FETCH; default {@link DEFAULT_FETCH_CHUNK_MESSAGES}. */
	fetchChunkMessages?: number;
}

/** What a catch-up needs of its session. */
export interface CatchUpHost {
	/** The connection in use now; a pass that began on another one stops. */
	current(): ImapFlow | undefined;
	isStopped(): boolean;
	/** The folder's UIDVALIDITY as the current connection opened it. */
	uidValidity(): string | undefined;
	/** Applies the after-run actions that waited for the pass, then idles. */
	flushActions(): Promise<void>;
	/** A pass finished: everything known is handed over (an outage ends here, ./outage). */
	caughtUp?(): void;
}

export class CatchUp {
	/** A pass is running: a second one would hand the same messages over twice. */
	private syncing = false;
	/** News (EXISTS) came during the pass: list again before idling. */
	private syncAgain = false;
	/** Set when EXISTS announced exactly one new message while idle; see fetchArrival. */
	private arrivalHint = false;
	/** Work done by the current pass; a pass that stops progressing is a stall (./liveness). */
	private progressCount = 0;
	/** Messages handed over so far, by every pass (an outage counts what it caught up). */
	private handedOverCount = 0;
	/** The retry of a message that could not be handed over. */
	private readonly handOver: HandOverRetry;

	constructor(
		/** What to hand messages to, and how much to fetch at once. */
		private readonly options: CatchUpOptions,
		/** The session's watermark, shared with it (it opens the folder on it). */
		private readonly cursor: Cursor,
		/** The session: its current connection, whether it stopped, its after-run queue. */
		private readonly host: CatchUpHost,
		/** n8n's logger in the trigger. */
		private readonly logger: PackageLogger,
		/** Server and folder, for the log lines. */
		private readonly where: string,
	) {
		this.handOver = new HandOverRetry(logger, where);
	}

	/** Whether a pass is running (a NOOP or an after-run command would queue behind it). */
	get running(): boolean {
		return this.syncing;
	}

	/** Grows while a pass works; see {@link progressCount}. */
	get progress(): number {
		return this.progressCount;
	}

	/** Messages handed over so far; see {@link handedOverCount}. */
	get handedOver(): number {
		return this.handedOverCount;
	}

	/** The server announced messages (EXISTS): `count` now, `prevCount` before. */
	arrived(count: number, prevCount: number): void {
		// One message arrived while idle and caught up: it can be fetched whole right away.
		if (!this.syncing && count - prevCount === 1) this.arrivalHint = true;
		this.request();
	}

	/** Drops a waiting hand-over retry: the session stops. */
	stop(): void {
		this.handOver.cancel();
	}

	/** Asks for a catch-up pass: now, or after the one running. */
	request(): void {
		// A hand-over failed and waits for its retry: that catch-up takes this news along too.
		if (this.handOver.waiting) return;
		if (this.syncing) {
			this.syncAgain = true;
			return;
		}
		void this.run();
	}

	/** Fetches everything past the watermark, chunk by chunk, then idles. */
	async run(): Promise<void> {
		const client = this.host.current();
		if (!client || this.syncing) return;
		this.syncing = true;
		this.handOver.cancel();
		try {
			let listingNeeded = true;
			if (this.arrivalHint) {
				this.arrivalHint = false;
				this.syncAgain = false;
				const newest = await this.fetchArrival(client);
				if (client !== this.host.current() || this.host.isStopped()) return;
				// Nothing can be past the newest message; an EXISTS that came meanwhile asks for the
				// listing all the same. Skipped, it would run beside n8n's start of the run.
				listingNeeded = !newest || this.syncAgain;
			}
			while (listingNeeded) {
				this.syncAgain = false;
				await this.syncRound(client);
				if (client !== this.host.current() || this.host.isStopped()) return;
				listingNeeded = this.syncAgain;
			}
			this.cursor.synced();
			await this.options.onCaughtUp?.();
			this.host.caughtUp?.();
		} catch (error) {
			if (error instanceof HandOverError) {
				// Our own work failed, not the connection: keep it, and try the message again later.
				this.retryHandOver(error);
			} else {
				// A failed fetch means a broken connection: replace it, the cursor keeps our place.
				this.logger.info(
					`IMAP fetch from ${this.where} failed (${errorText(error)}); reconnecting`,
				);
				if (client === this.host.current()) client.close();
				return;
			}
		} finally {
			this.syncing = false;
			// The connection was replaced while this pass was busy (e.g. handing a message over):
			// the new one's own catch-up was refused (one pass at a time), so it runs now.
			const current = this.host.current();
			if (current && current !== client && !this.host.isStopped()) void this.run();
		}
		await this.host.flushActions();
	}

	/** Schedules the next try of a message whose hand-over failed, with a growing pause. */
	private retryHandOver(error: HandOverError): void {
		if (this.host.isStopped()) return;
		this.handOver.schedule(error, () => {
			if (!this.host.isStopped()) void this.run();
		});
	}

	/**
	 * The one message that just arrived, in a single FETCH by UID (the next UID past the
	 * watermark), with its source up to the size cap: one round trip from EXISTS to the run
	 * instead of two. Unless the message fetched is the last one in the folder (its sequence
	 * number is the EXISTS count), the regular pass follows and lists everything past the
	 * watermark, so a message this misses (its UID was not the next one) is taken there.
	 *
	 * @returns Whether the message fetched was the newest in the folder as the server last
	 * told us; then there is nothing past the watermark to list.
	 */
	private async fetchArrival(client: ImapFlow): Promise<boolean> {
		const uid = this.cursor.lastUid + 1;
		const max = this.options.maxMessageBytes;
		const [message] = await client.fetchAll(
			`${uid}:${uid}`,
			{
				uid: true,
				flags: true,
				size: true,
				internalDate: true,
				envelope: true,
				// Never more than the cap: a bigger message gets its headers from the start.
				source: max ? { start: 0, maxLength: max } : true,
			},
			{ uid: true },
		);
		this.progressCount++;
		if (!message || message.uid !== uid) return false;
		// As the server last told us; an EXISTS during the hand-over sets syncAgain instead.
		const exists = client.mailbox ? client.mailbox.exists : undefined;
		const newest = message.seq === exists;
		if (max && (message.size ?? 0) > max) {
			await this.handle({ ...message, headers: message.source, source: undefined });
		} else {
			await this.handle(message);
		}
		return newest;
	}

	/**
	 * One pass over what is past the watermark. A light listing first (UID, size, flags, arrival:
	 * about 60 bytes a message), so that what is old is never downloaded and what is new comes
	 * with its whole source in as few FETCH commands as memory allows.
	 */
	private async syncRound(client: ImapFlow): Promise<void> {
		const from = this.cursor.lastUid + 1;
		const listed = await client.fetchAll(
			`${from}:*`,
			{ uid: true, size: true, flags: true, internalDate: true },
			{ uid: true },
		);
		this.progressCount++;
		// "n:*" always matches the newest message, even below n: keep only what is past the mark.
		const entries = listed
			.filter((listing) => listing.uid >= from)
			.sort((a, b) => a.uid - b.uid)
			.map((listing) => this.plan(listing));
		for (const chunk of chunkPlan(entries, {
			messages: this.options.fetchChunkMessages ?? DEFAULT_FETCH_CHUNK_MESSAGES,
			bytes: FETCH_CHUNK_BYTES,
		})) {
			if (client !== this.host.current() || this.host.isStopped()) return;
			await this.syncChunk(client, chunk);
		}
	}

	/** What to fetch of a listed message: nothing (it is old), all of it, or its headers. */
	private plan(listing: FetchMessageObject): PlannedMessage {
		const size = listing.size ?? 0;
		const candidate = {
			uid: listing.uid,
			// Not known yet; judged again with it once fetched (only renumbered folders use it).
			messageId: null,
			seen: (listing.flags ?? new Set<string>()).has('\\Seen'),
			internalDate: listing.internalDate ? new Date(listing.internalDate) : null,
		};
		if (!this.cursor.isNew(candidate)) return { uid: listing.uid, size, fetch: 'none' };
		const whole = !this.options.maxMessageBytes || size <= this.options.maxMessageBytes;
		return { uid: listing.uid, size, fetch: whole ? 'source' : 'headers' };
	}

	/** Fetches one chunk (at most two FETCH commands) and hands its messages over in UID order. */
	private async syncChunk(client: ImapFlow, chunk: PlannedMessage[]): Promise<void> {
		const fetched = new Map<number, FetchMessageObject>();
		const base = { uid: true, flags: true, size: true, internalDate: true, envelope: true };
		const withSource = chunk.filter((entry) => entry.fetch === 'source').map((entry) => entry.uid);
		const headersOnly = chunk
			.filter((entry) => entry.fetch === 'headers')
			.map((entry) => entry.uid);
		if (withSource.length) {
			const messages = await client.fetchAll(
				withSource.join(','),
				{ ...base, source: true },
				{ uid: true },
			);
			for (const message of messages) fetched.set(message.uid, message);
		}
		if (headersOnly.length) {
			const messages = await client.fetchAll(
				headersOnly.join(','),
				{ ...base, headers: true },
				{ uid: true },
			);
			for (const message of messages) fetched.set(message.uid, message);
		}
		this.progressCount++;
		for (const entry of chunk) {
			if (client !== this.host.current() || this.host.isStopped()) return;
			const message = fetched.get(entry.uid);
			// Old, or expunged between the listing and the fetch: nothing to emit.
			if (!message) {
				this.cursor.advance(entry.uid);
				continue;
			}
			await this.handle(message);
		}
	}

	private async handle(message: FetchMessageObject): Promise<void> {
		const messageId = message.envelope?.messageId ?? null;
		const flags = [...(message.flags ?? [])];
		const candidate = {
			uid: message.uid,
			messageId,
			seen: flags.includes('\\Seen'),
			internalDate: message.internalDate ? new Date(message.internalDate) : null,
		};
		if (!this.cursor.isNew(candidate)) {
			this.cursor.advance(message.uid, messageId);
			return;
		}
		// The cursor moves before the hand-over, so the emit carries the new watermark with it.
		const before = this.cursor.mark();
		this.cursor.advance(message.uid, messageId);
		this.progressCount++;
		const handed = await settle(
			(async () =>
				await this.options.onMessage({
					uid: message.uid,
					uidValidity: this.host.uidValidity() ?? '',
					folder: this.options.folder,
					messageId,
					flags,
					size: message.size ?? 0,
					internalDate: candidate.internalDate,
					source: message.source,
					headers: message.headers ?? Buffer.alloc(0),
				}))(),
		);
		if (!handed.ok) {
			// Not handed over (e.g. n8n could not store its binary data): fetch it again later.
			this.cursor.rewind(before);
			throw new HandOverError(message.uid, handed.error);
		}
		this.handedOverCount++;
		this.handOver.works();
	}
}
