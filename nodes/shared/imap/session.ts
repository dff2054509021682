/**
 * One resilient IMAP session for the AgentMail Trigger: connect, open the folder, catch up from
 * the cursor, then IDLE and fetch each new message as it arrives, in UID order, one at a time.
 *
 * Never silent: a closed, failed or stalled connection (found by a timed NOOP) is replaced by a
 * new client after a capped, jittered backoff, followed by a catch-up, forever; each drop and
 * each restore is logged. Only what retrying cannot fix (a refused login, a missing folder) is
 * reported as fatal, once. A message that cannot be handed over (./handOver) keeps the
 * connection: the same message is tried again after a pause, and the mail behind it waits.
 *
 * The client factory is injectable so tests can swap the transport.
 */
import { ImapFlow, type FetchMessageObject, type ImapFlowOptions } from 'imapflow';

import { settle, withTimeout, type PackageLogger } from '../async';
import { imapOptions, type AgentMailConnection } from '../connection';
import { describeConnectionError } from '../connectionErrors';
import { Cursor, type CursorState, type StartFrom } from './cursor';
import { HandOverError, handOverDelay, jittered, RETRY_JITTER } from './handOver';

/** Default window within which a silently dead connection is noticed. */
export const DEFAULT_LIVENESS_WINDOW_MS = 60_000;
/** First reconnect delay; grows ×2 per failed attempt. */
export const RECONNECT_INITIAL_MS = 250;
/** Reconnect delay cap while an outage is young, so a restarted server is caught up quickly. */
export const RECONNECT_FAST_CAP_MS = 1_000;
/** How long an outage counts as young. */
export const RECONNECT_FAST_PERIOD_MS = 60_000;
/** Reconnect delay cap for a long outage: a down server is not hammered. */
export const RECONNECT_SLOW_CAP_MS = 30_000;
/** ± share of each delay that is random, so many triggers do not reconnect in step. */
export const RECONNECT_JITTER = RETRY_JITTER;
/** Messages fetched per FETCH command; with FETCH_CHUNK_BYTES it bounds memory on a backlog. */
export const DEFAULT_BATCH_SIZE = 50;
/**
 * Source bytes fetched in one FETCH command: the most a catch-up holds in memory at once (one
 * message over it is fetched alone, up to the trigger's size cap).
 */
export const FETCH_CHUNK_BYTES = 8 * 1024 * 1024;
/** Time allowed for LOGOUT when stopping before the socket is just closed. */
export const LOGOUT_TIMEOUT_MS = 3_000;
/** Pending after-run actions kept while disconnected; older ones are dropped with a warning. */
export const MAX_PENDING_ACTIONS = 10_000;

/** A new message, as handed to the trigger. */
export interface FetchedMessage {
	uid: number;
	uidValidity: string;
	folder: string;
	messageId: string | null;
	flags: string[];
	size: number;
	internalDate: Date | null;
	/** The whole message; absent when it is over the size cap. */
	source?: Buffer;
	/**
	 * Without `source`: the header block (or the start of the message, which begins with it).
	 * With `source`, empty: the headers are in the source.
	 */
	headers: Buffer;
}

/** Where the session logs drops, restores and stalls (n8n's logger in the trigger). */
export type SessionLogger = PackageLogger;

/** A failure retrying cannot fix; `message` is for the user. */
export class FatalSessionError extends Error {
	constructor(
		message: string,
		readonly reason: 'auth' | 'folder' | 'config',
	) {
		super(message);
		this.name = 'FatalSessionError';
	}
}

/** A failure worth retrying (network, server restart); `message` says what happened. */
export class TransientSessionError extends Error {
	constructor(message: string) {
		super(message);
		this.name = 'TransientSessionError';
	}
}

export interface MailboxSessionOptions {
	connection: AgentMailConnection;
	folder: string;
	/** Persisted watermark (n8n static data); mutated in place. */
	cursorState: CursorState;
	startFrom: StartFrom;
	/**
	 * Called for each new message in UID order, after the cursor has moved past it; the next
	 * message waits for it. A throw means the message was not handed over: the cursor goes back
	 * before it and it is tried again later, on the same connection (see ./handOver). So a
	 * message that can never be handed over must be handed over some other way (headers only).
	 */
	onMessage: (message: FetchedMessage) => Promise<void> | void;
	/** Called after each catch-up pass, once everything known is handed over (batch flushing). */
	onCaughtUp?: () => Promise<void> | void;
	/** Called once when the session gives up (refused login, missing folder). */
	onFatal: (error: FatalSessionError) => void;
	/**
	 * When set, a session that was running keeps going after a refused login or a missing
	 * folder (a key rotated too early, an outage on the provider's side): this is called once
	 * per outage, the session retries every {@link RECONNECT_SLOW_CAP_MS}, and resumes by
	 * itself once the login works. Without it, or on the very first connect, onFatal ends it.
	 */
	onRefused?: (error: FatalSessionError) => void;
	logger: SessionLogger;
	/** A silent dead connection is detected within this; default 60 s. */
	livenessWindowMs?: number;
	/** Messages over this many bytes are handed over with headers only. */
	maxMessageBytes?: number;
	batchSize?: number;
	/** Swap the IMAP client (tests). */
	createClient?: (options: ImapFlowOptions) => ImapFlow;
}

type Action = { kind: 'seen' } | { kind: 'move'; to: string };

function isMissingFolder(error: unknown): boolean {
	const err = error as { serverResponseCode?: string; responseText?: string; message?: string };
	return (
		err?.serverResponseCode === 'NONEXISTENT' ||
		/doesn't exist|does not exist|not found|unknown mailbox/i.test(
			`${err?.responseText ?? ''} ${err?.message ?? ''}`,
		)
	);
}

export class MailboxSession {
	private client?: ImapFlow;
	private cursor: Cursor;
	private stopped = false;
	private started = false;
	private syncing = false;
	private syncAgain = false;
	/** Set when EXISTS announced exactly one new message while idle; see fetchArrival. */
	private arrivalHint = false;
	private livenessTimer?: NodeJS.Timeout;
	private reconnectTimer?: NodeJS.Timeout;
	private outageSince?: number;
	private attempts = 0;
	/** Whether a connect has ever succeeded: a refusal after that is retried (see onRefused). */
	private connectedOnce = false;
	/** The current outage is a refusal (login or folder): retried at the slow pace only. */
	private refused = false;
	/** The pause before a failed hand-over is tried again; no catch-up starts while it runs. */
	private handOverTimer?: NodeJS.Timeout;
	/** Failed tries of the message that cannot be handed over now; 0 when none fails. */
	private handOverAttempts = 0;
	/** When hand-overs started failing (for the log line once they work again). */
	private handOverFailingSince?: number;
	private uidValidity?: string;
	private readonly pending = new Map<
		string,
		{ uid: number; uidValidity: string; action: Action }
	>();
	/** The after-run flush in progress (resolved when none); see flushActions. */
	private flushing: Promise<void> = Promise.resolve();
	private readonly window: number;
	private readonly create: (options: ImapFlowOptions) => ImapFlow;
	private readonly where: string;
	/** Work done by the current catch-up; a catch-up that stops progressing is a stall. */
	private progress = 0;
	/** Clients opened so far (tests count reconnects with it). */
	connectionsOpened = 0;

	constructor(private readonly options: MailboxSessionOptions) {
		this.cursor = new Cursor(options.cursorState, options.folder, options.startFrom);
		this.window = options.livenessWindowMs ?? DEFAULT_LIVENESS_WINDOW_MS;
		this.create = options.createClient ?? ((o) => new ImapFlow(o));
		this.where = `${options.connection.imapHost}:${options.connection.imapPort} (${options.folder})`;
	}

	/**
	 * Connects, opens the folder and catches up. Resolves once the session is idling, or rejects
	 * with a FatalSessionError; a transient failure is retried in the background instead and
	 * resolves at once (the first catch-up then happens when the server is reachable).
	 */
	async start(): Promise<void> {
		if (this.started) return;
		this.started = true;
		const first = await settle(this.connect());
		if (first.error instanceof FatalSessionError) {
			this.stopped = true;
			throw first.error;
		}
		// Anything else is transient: keep trying in the background.
		if (!first.ok) this.scheduleReconnect(first.error);
	}

	/** Logs out and stops every timer; no reconnect after this. */
	async stop(): Promise<void> {
		this.stopped = true;
		clearTimeout(this.reconnectTimer);
		clearTimeout(this.handOverTimer);
		clearInterval(this.livenessTimer);
		const client = this.client;
		this.client = undefined;
		if (!client) return;
		try {
			await withTimeout(client.logout(), LOGOUT_TIMEOUT_MS, 'LOGOUT');
		} catch {
			// The server is gone or slow: closing the socket is all that is left to do.
		} finally {
			client.close();
		}
	}

	/** Marks messages \Seen (after their run succeeded). Queued while disconnected. */
	markSeen(uids: number[], uidValidity: string): Promise<void> {
		return this.act(uids, uidValidity, { kind: 'seen' });
	}

	/** Moves messages to another folder (after their run succeeded). Queued while disconnected. */
	move(uids: number[], uidValidity: string, to: string): Promise<void> {
		return this.act(uids, uidValidity, { kind: 'move', to });
	}

	private async act(uids: number[], uidValidity: string, action: Action): Promise<void> {
		for (const uid of uids) this.pending.set(`${uidValidity}:${uid}`, { uid, uidValidity, action });
		while (this.pending.size > MAX_PENDING_ACTIONS) {
			const oldest = this.pending.keys().next().value as string;
			this.pending.delete(oldest);
			this.options.logger.warn(
				'Too many after-run actions waiting for the IMAP connection; dropped the oldest',
				{ dropped: oldest },
			);
		}
		await this.flushActions();
	}

	/** Applies the waiting after-run actions; flushes run one after another, never interleaved. */
	private flushActions(): Promise<void> {
		// Two flushes at once would both see the same pending actions and apply them twice.
		this.flushing = this.flushing.then(() => this.flushOnce());
		return this.flushing;
	}

	/**
	 * Applies the waiting after-run actions, one command per kind of action (a UID set), so that
	 * a run of 20 messages costs one STORE, not 20.
	 */
	private async flushOnce(): Promise<void> {
		const client = this.client;
		if (!client || !client.usable || this.syncing) return;
		const groups = new Map<string, { action: Action; keys: string[]; uids: number[] }>();
		for (const [key, { uid, uidValidity, action }] of this.pending) {
			// After a renumbering the UID points at another message, or at none.
			if (uidValidity !== this.uidValidity) {
				this.pending.delete(key);
				continue;
			}
			const name = action.kind === 'seen' ? 'seen' : `move:${action.to}`;
			const group = groups.get(name) ?? { action, keys: [], uids: [] };
			group.keys.push(key);
			group.uids.push(uid);
			groups.set(name, group);
		}
		for (const { action, keys, uids } of groups.values()) {
			const set = uids.join(',');
			try {
				if (action.kind === 'seen') await client.messageFlagsAdd(set, ['\\Seen'], { uid: true });
				else await client.messageMove(set, action.to, { uid: true });
				for (const key of keys) this.pending.delete(key);
			} catch (error) {
				if (!client.usable) return; // Connection gone: kept for after the reconnect.
				for (const key of keys) this.pending.delete(key);
				this.options.logger.warn('Could not apply the after-run action', {
					uids,
					action: action.kind,
					error: String((error as Error)?.message ?? error),
				});
			}
		}
		this.idle(client);
	}

	private async connect(): Promise<void> {
		const { connection, folder, logger } = this.options;
		const client = this.create(
			imapOptions(connection, {
				disableAutoIdle: true,
				// imapflow's own inactivity timer is the backstop behind the NOOP probe.
				socketTimeout: Math.max(this.window * 2, 30_000),
			}),
		);
		this.connectionsOpened++;
		// An error without a listener would crash n8n; 'close' follows it and drives the reconnect.
		client.on('error', (error: Error) =>
			logger.debug('IMAP client error', { error: error.message }),
		);
		client.on('close', () => this.onClose(client));
		client.on('exists', (event: { count: number; prevCount: number }) => {
			// One message arrived while idle and caught up: it can be fetched whole right away.
			if (!this.syncing && event.count - event.prevCount === 1) this.arrivalHint = true;
			this.requestSync();
		});
		const connected = await settle(client.connect());
		if (!connected.ok) {
			client.close();
			const failure = describeConnectionError(connected.error, 'IMAP', connection);
			if (failure.kind === 'auth') throw new FatalSessionError(failure.message, 'auth');
			throw new TransientSessionError(failure.message);
		}
		const opened = await settle(client.mailboxOpen(folder));
		if (!opened.ok) {
			client.close();
			if (isMissingFolder(opened.error)) {
				throw new FatalSessionError(
					`The folder "${folder}" does not exist in ${connection.email}. AgentMail's folders are INBOX, Sent, Trash and Spam (case-sensitive): pick one from the list.`,
					'folder',
				);
			}
			throw new TransientSessionError(
				`opening ${folder} failed: ${String((opened.error as Error)?.message ?? opened.error)}`,
			);
		}
		const mailbox = opened.value;
		if (this.stopped) {
			client.close();
			return;
		}
		this.client = client;
		this.uidValidity = String(mailbox.uidValidity);
		const outcome = this.cursor.open(mailbox.uidValidity, mailbox.uidNext);
		if (outcome === 'renumbered') {
			logger.warn(
				'The folder was renumbered (new UIDVALIDITY): catching up by Message-ID and arrival time',
				{
					folder,
					uidValidity: this.uidValidity,
				},
			);
		}
		if (this.outageSince !== undefined) {
			logger.info(
				`IMAP connection to ${this.where} restored after ${Date.now() - this.outageSince} ms`,
			);
		}
		this.outageSince = undefined;
		this.attempts = 0;
		this.refused = false;
		this.connectedOnce = true;
		this.startLiveness(client);
		await this.sync();
	}

	private onClose(client: ImapFlow): void {
		if (client !== this.client) return; // An old client closing late: already replaced.
		this.client = undefined;
		clearInterval(this.livenessTimer);
		if (this.stopped) return;
		this.scheduleReconnect(new Error('the server closed the connection'));
	}

	private scheduleReconnect(cause: unknown): void {
		if (this.stopped || this.reconnectTimer) return;
		const now = Date.now();
		if (this.outageSince === undefined) {
			this.outageSince = now;
			this.options.logger.info(
				`IMAP connection to ${this.where} lost (${String((cause as Error)?.message ?? cause)}); reconnecting`,
			);
		}
		const cap =
			now - this.outageSince < RECONNECT_FAST_PERIOD_MS && !this.refused
				? RECONNECT_FAST_CAP_MS
				: RECONNECT_SLOW_CAP_MS;
		// A refused login is not retried quickly: many wrong logins can get an account locked.
		const base = this.refused ? cap : Math.min(cap, RECONNECT_INITIAL_MS * 2 ** this.attempts);
		const wait = jittered(base);
		this.attempts++;
		// Every attempt while young is quiet; then one line per slow attempt is enough.
		if (cap === RECONNECT_SLOW_CAP_MS) {
			this.options.logger.warn(`IMAP ${this.where} still unreachable; next attempt in ${wait} ms`, {
				error: String((cause as Error)?.message ?? cause),
			});
		}
		this.reconnectTimer = setTimeout(async () => {
			this.reconnectTimer = undefined;
			if (this.stopped) return;
			const attempt = await settle(this.connect());
			if (attempt.error instanceof FatalSessionError) {
				if (this.connectedOnce && this.options.onRefused) {
					// It worked before: keep trying slowly, and say so once per outage.
					if (!this.refused) {
						this.refused = true;
						this.options.logger.error(
							`${attempt.error.message} Retrying every ${RECONNECT_SLOW_CAP_MS / 1000} s.`,
						);
						this.options.onRefused(attempt.error);
					}
					this.scheduleReconnect(attempt.error);
					return;
				}
				this.stopped = true;
				this.options.logger.error(attempt.error.message);
				this.options.onFatal(attempt.error);
			} else if (!attempt.ok) {
				this.scheduleReconnect(attempt.error);
			}
		}, wait);
	}

	/** A timed NOOP every half window: a half-open connection never answers and is replaced. */
	private startLiveness(client: ImapFlow): void {
		clearInterval(this.livenessTimer);
		let progressAtLastTick = -1;
		this.livenessTimer = setInterval(
			async () => {
				if (client !== this.client) return;
				if (this.syncing) {
					// A NOOP would queue behind the catch-up: judge it by whether it moves instead.
					if (this.progress === progressAtLastTick) {
						this.options.logger.info(
							`IMAP catch-up from ${this.where} stalled; replacing the connection`,
						);
						client.close();
					}
					progressAtLastTick = this.progress;
					return;
				}
				progressAtLastTick = -1;
				try {
					await withTimeout(client.noop(), Math.floor(this.window / 4), 'NOOP');
					this.idle(client);
				} catch (error) {
					if (client !== this.client) return;
					this.options.logger.info(
						`IMAP connection to ${this.where} stalled (${(error as Error).message}); replacing it`,
					);
					client.close();
				}
			},
			Math.floor(this.window / 2),
		);
	}

	private idle(client: ImapFlow): void {
		if (client !== this.client || this.stopped || this.syncing) return;
		// Resolves when IDLE ends (a command breaks it); errors surface as 'close'.
		client.idle().catch(() => undefined);
	}

	private requestSync(): void {
		// A hand-over failed and waits for its retry: that catch-up takes this news along too.
		if (this.handOverTimer) return;
		if (this.syncing) {
			this.syncAgain = true;
			return;
		}
		void this.sync();
	}

	/** Fetches everything past the watermark, chunk by chunk, then idles. */
	private async sync(): Promise<void> {
		const client = this.client;
		if (!client || this.syncing) return;
		this.syncing = true;
		clearTimeout(this.handOverTimer);
		this.handOverTimer = undefined;
		try {
			let listingNeeded = true;
			if (this.arrivalHint) {
				this.arrivalHint = false;
				this.syncAgain = false;
				const newest = await this.fetchArrival(client);
				if (client !== this.client || this.stopped) return;
				// Nothing can be past the newest message; an EXISTS that came meanwhile asks for the
				// listing all the same. Skipped, it would run beside n8n's start of the run.
				listingNeeded = !newest || this.syncAgain;
			}
			while (listingNeeded) {
				this.syncAgain = false;
				await this.syncRound(client);
				if (client !== this.client || this.stopped) return;
				listingNeeded = this.syncAgain;
			}
			this.cursor.synced();
			await this.options.onCaughtUp?.();
		} catch (error) {
			if (error instanceof HandOverError) {
				// Our own work failed, not the connection: keep it, and try the message again later.
				this.retryHandOver(error);
			} else {
				// A failed fetch means a broken connection: replace it, the cursor keeps our place.
				this.options.logger.info(
					`IMAP fetch from ${this.where} failed (${String((error as Error)?.message ?? error)}); reconnecting`,
				);
				if (client === this.client) client.close();
				return;
			}
		} finally {
			this.syncing = false;
			// The connection was replaced while this pass was busy (e.g. handing a message over):
			// the new one's own catch-up was refused (one pass at a time), so it runs now.
			if (this.client && this.client !== client && !this.stopped) void this.sync();
		}
		await this.flushActions();
	}

	/** Schedules the next try of a message whose hand-over failed, with a growing pause. */
	private retryHandOver(error: HandOverError): void {
		if (this.stopped) return;
		const wait = handOverDelay(this.handOverAttempts);
		this.handOverAttempts++;
		this.handOverFailingSince ??= Date.now();
		this.options.logger.warn(
			`AgentMail Trigger: ${error.message} (${this.where}); the mail behind it waits, next try in ${wait} ms`,
			{ uid: error.uid, attempt: this.handOverAttempts },
		);
		clearTimeout(this.handOverTimer);
		this.handOverTimer = setTimeout(() => {
			this.handOverTimer = undefined;
			if (!this.stopped) void this.sync();
		}, wait);
	}

	/** A message was handed over: ends a run of failed hand-overs, and says so once. */
	private handOverWorks(): void {
		if (this.handOverFailingSince === undefined) return;
		this.options.logger.info(
			`AgentMail Trigger: handing messages over works again after ${Date.now() - this.handOverFailingSince} ms (${this.where})`,
		);
		this.handOverFailingSince = undefined;
		this.handOverAttempts = 0;
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
		this.progress++;
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
		this.progress++;
		// "n:*" always matches the newest message, even below n: keep only what is past the mark.
		const entries = listed
			.filter((listing) => listing.uid >= from)
			.sort((a, b) => a.uid - b.uid)
			.map((listing) => this.plan(listing));
		for (const chunk of chunkPlan(entries, {
			messages: this.options.batchSize ?? DEFAULT_BATCH_SIZE,
			bytes: FETCH_CHUNK_BYTES,
		})) {
			if (client !== this.client || this.stopped) return;
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
		this.progress++;
		for (const entry of chunk) {
			if (client !== this.client || this.stopped) return;
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
		this.progress++;
		const handed = await settle(
			(async () =>
				await this.options.onMessage({
					uid: message.uid,
					uidValidity: this.uidValidity ?? '',
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
		this.handOverWorks();
	}
}

/** A listed message and what of it to fetch. */
interface PlannedMessage {
	uid: number;
	size: number;
	fetch: 'none' | 'source' | 'headers';
}

/**
 * Cuts the planned messages, in UID order, into chunks of at most `messages` messages to fetch
 * and, for the whole ones, about `bytes` of source (a single larger message gets a chunk of its
 * own): the most one chunk holds in memory. Old messages ride along without counting.
 */
export function chunkPlan(
	entries: PlannedMessage[],
	limits: { messages: number; bytes: number },
): PlannedMessage[][] {
	const chunks: PlannedMessage[][] = [];
	let current: PlannedMessage[] = [];
	let count = 0;
	let bytes = 0;
	for (const entry of entries) {
		const size = entry.fetch === 'source' ? entry.size : 0;
		const counted = entry.fetch === 'none' ? 0 : 1;
		if (count > 0 && (count + counted > limits.messages || bytes + size > limits.bytes)) {
			chunks.push(current);
			current = [];
			count = 0;
			bytes = 0;
		}
		current.push(entry);
		count += counted;
		bytes += size;
	}
	if (current.length) chunks.push(current);
	return chunks;
}
