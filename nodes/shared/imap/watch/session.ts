/**
 * One resilient IMAP session for the AgentMail Trigger: connect, open the folder, catch up from
 * the cursor, then IDLE and fetch each new message as it arrives, in UID order, one at a time.
 *
 * Never silent: a closed, failed or stalled connection (found by a timed NOOP) is replaced by a
 * new client after a capped, jittered backoff, followed by a catch-up, forever; each drop and
 * each restore is logged, and an outage past a threshold is reported once (./outage). Only what
 * retrying cannot fix (a refused login, a missing folder) is reported as fatal, once; a session
 * that was running keeps retrying it, and reads its credential again meanwhile (./credential).
 * A message that cannot be handed over (./handOver) keeps the connection: the same message is
 * tried again after a pause, and the mail behind it waits.
 *
 * Each stage has its file: the backoff in ./reconnect, the NOOP check in ./liveness, fetching
 * and handing over in ./catchUp (and ./handOver), marking read or moving after the run in
 * ./afterRun, the outage report in ./outage.
 *
 * The client factory is injectable so tests can swap the transport.
 */
import { ImapFlow, type ImapFlowOptions } from 'imapflow';

import { settle, withTimeout, type PackageLogger } from '../../async';
import { imapOptions, type AgentMailConnection } from '../../connection';
import { describeConnectionError } from '../../connectionErrors';
import { ConnectionError, errorText, FatalSessionError, ServerError } from '../../errors';
import { AfterRunQueue } from './afterRun';
import { CatchUp, type CatchUpOptions } from './catchUp';
import { CREDENTIAL_CHECK_MS, SessionCredential } from './credential';
import { Cursor, type CursorState, type StartFrom } from './cursor';
import { DEFAULT_LIVENESS_WINDOW_MS, watchLiveness } from './liveness';
import { DEFAULT_OUTAGE_REPORT_MS, OutageWatch } from './outage';
import { canIdle, DEFAULT_POLL_INTERVAL_MS, MailPoll } from './poll';
import { ReconnectPolicy } from './reconnect';

/** Time allowed for LOGOUT when stopping before the socket is just closed. */
const LOGOUT_TIMEOUT_MS = 3_000;

export interface MailboxSessionOptions extends CatchUpOptions {
	connection: AgentMailConnection;
	/** Persisted watermark (n8n static data); mutated in place. */
	cursorState: CursorState;
	startFrom: StartFrom;
	/** Called once when the session gives up (refused login, missing folder). */
	onFatal: (error: FatalSessionError) => void;
	/**
	 * When set, a session that was running keeps going after a refused login or a missing
	 * folder (a key rotated too early, an outage on the provider's side): this is called once
	 * per outage, the session retries at the refusal pace (./reconnect, REFUSED_RETRY_*), and
	 * resumes by itself once the login works. Without it, or on the very first connect,
	 * onFatal ends it.
	 */
	onRefused?: (error: FatalSessionError) => void;
	/**
	 * Reads the credential again (n8n does not re-activate a trigger whose credential is
	 * edited): while logins are refused, a changed key is tried at once (./credential).
	 */
	reloadConnection?: () => Promise<AgentMailConnection>;
	/**
	 * Called once per outage that keeps the session without a connection for longer than
	 * `outageReportMs`, with what is wrong and what the session does about it (./outage).
	 */
	onOutage?: (message: string) => void;
	/** Time without a connection before onOutage; 0 never; default 5 minutes. */
	outageReportMs?: number;
	/** Where the session logs drops, restores and stalls (n8n's logger in the trigger). */
	logger: PackageLogger;
	/** A silent dead connection is detected within this; default 60 s. */
	livenessWindowMs?: number;
	/** How often a server without IDLE is asked for new mail (./poll); default 30 s. */
	pollIntervalMs?: number;
	/** Swap the IMAP client (tests). */
	createClient?: (options: ImapFlowOptions) => ImapFlow;
}

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
	/** The connection in use; undefined while disconnected. */
	private client?: ImapFlow;
	/** The watermark in the trigger's static data, shared with the catch-up. */
	private readonly cursor: Cursor;
	/** Set by stop() or a fatal failure: no reconnect, no pass, no idle after it. */
	private stopped = false;
	/** start() was called: a second call does nothing. */
	private started = false;
	/** The NOOP check of the current connection (./liveness). */
	private livenessTimer?: NodeJS.Timeout;
	/** The next reconnect attempt while one is scheduled: never two at once. */
	private reconnectTimer?: NodeJS.Timeout;
	/** A client still connecting or opening the folder (not yet `client`): stop() closes it. */
	private connecting?: ImapFlow;
	/** Why the session itself closes the current connection (a stall), for the outage report. */
	private closeReason?: string;
	/** The credential logged in with, read again while logins are refused. */
	private readonly credential: SessionCredential;
	/** The report of an outage past its threshold, and the line when mail flows again. */
	private readonly outage: OutageWatch;
	/** The folder's UIDVALIDITY as the current connection opened it. */
	private uidValidity?: string;
	/** Backoff and log lines of an outage. */
	private readonly reconnect: ReconnectPolicy;
	/** Fetching and handing over what is past the watermark. */
	private readonly catchUp: CatchUp;
	/** Mark read / move after the run, kept while disconnected. */
	private readonly afterRun: AfterRunQueue;
	/** Asks a server without IDLE for new mail, where the session would idle. */
	private readonly poll: MailPoll;
	/** The liveness window in ms (the NOOP check and the socket timeout follow it). */
	private readonly window: number;
	/** Makes each new IMAP client (swapped in tests). */
	private readonly create: (options: ImapFlowOptions) => ImapFlow;
	/** Server and folder, for the log lines. */
	private readonly where: string;
	/** Clients opened so far (tests count reconnects with it). */
	connectionsOpened = 0;

	constructor(private readonly options: MailboxSessionOptions) {
		this.cursor = new Cursor(options.cursorState, options.folder, options.startFrom);
		this.window = options.livenessWindowMs ?? DEFAULT_LIVENESS_WINDOW_MS;
		this.create = options.createClient ?? ((o) => new ImapFlow(o));
		this.where = `${options.connection.imapHost}:${options.connection.imapPort} (${options.folder})`;
		this.reconnect = new ReconnectPolicy(options.logger, this.where);
		this.credential = new SessionCredential(
			options.connection,
			options.reloadConnection,
			options.logger,
		);
		this.outage = new OutageWatch({
			thresholdMs: options.outageReportMs ?? DEFAULT_OUTAGE_REPORT_MS,
			where: this.where,
			logger: options.logger,
			onReport: options.onOutage,
			secrets: () => [options.connection.apiKey, this.credential.connection.apiKey],
		});
		this.afterRun = new AfterRunQueue(
			{
				current: () => this.client,
				catchingUp: () => this.catchUp.running,
				uidValidity: () => this.uidValidity,
				idle: (client) => this.idle(client),
			},
			options.logger,
		);
		this.poll = new MailPoll(
			options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS,
			{
				current: () => this.client,
				isStopped: () => this.stopped,
				catchingUp: () => this.catchUp.running,
				idle: (client) => this.idle(client),
			},
			options.logger,
			this.where,
		);
		this.catchUp = new CatchUp(
			options,
			this.cursor,
			{
				current: () => this.client,
				isStopped: () => this.stopped,
				uidValidity: () => this.uidValidity,
				flushActions: () => this.afterRun.flush(),
				caughtUp: () => this.outage.caughtUp(this.catchUp.handedOver),
			},
			options.logger,
			this.where,
		);
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
		this.reconnectTimer = undefined;
		this.catchUp.stop();
		this.outage.stop();
		this.poll.stop();
		clearInterval(this.livenessTimer);
		// A connect that hangs (a server that accepted but never answers) ends here, not later.
		this.connecting?.close();
		this.connecting = undefined;
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
		return this.afterRun.add(uids, uidValidity, { kind: 'seen' });
	}

	/** Moves messages to another folder (after their run succeeded). Queued while disconnected. */
	move(uids: number[], uidValidity: string, to: string): Promise<void> {
		return this.afterRun.add(uids, uidValidity, { kind: 'move', to });
	}

	private async connect(): Promise<void> {
		const { folder, logger } = this.options;
		const connection = this.credential.connection;
		const client = this.create(
			imapOptions(connection, {
				disableAutoIdle: true,
				// imapflow's own inactivity timer is the backstop behind the NOOP probe.
				socketTimeout: Math.max(this.window * 2, 30_000),
			}),
		);
		this.connectionsOpened++;
		this.connecting = client;
		// An error without a listener would crash n8n; 'close' follows it and drives the reconnect.
		client.on('error', (error: Error) =>
			logger.debug('IMAP client error', { error: error.message }),
		);
		client.on('close', () => this.onClose(client));
		client.on('exists', (event: { count: number; prevCount: number }) =>
			this.catchUp.arrived(event.count, event.prevCount),
		);
		const connected = await settle(client.connect());
		if (!connected.ok) {
			this.connecting = undefined;
			client.close();
			const failure = describeConnectionError(connected.error, 'IMAP', connection);
			if (failure.kind === 'auth') throw new FatalSessionError(failure.message, 'auth');
			throw new ConnectionError(failure.message);
		}
		const opened = await settle(client.mailboxOpen(folder));
		this.connecting = undefined;
		if (!opened.ok) {
			client.close();
			if (isMissingFolder(opened.error)) {
				throw new FatalSessionError(
					`The folder "${folder}" does not exist in ${connection.email}. AgentMail's folders are INBOX, Sent, Trash and Spam (case-sensitive): pick one from the list.`,
					'folder',
				);
			}
			throw new ServerError(`opening ${folder} failed: ${errorText(opened.error)}`);
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
		this.reconnect.connected();
		this.outage.online();
		clearInterval(this.livenessTimer);
		this.livenessTimer = watchLiveness(client, this.window, {
			current: () => this.client,
			catchUp: this.catchUp,
			idle: (c) => this.idle(c),
			closing: (reason) => (this.closeReason = reason),
			logger,
			where: this.where,
		});
		await this.catchUp.run();
	}

	private onClose(client: ImapFlow): void {
		if (client !== this.client) return; // An old client closing late: already replaced.
		this.client = undefined;
		clearInterval(this.livenessTimer);
		const reason = this.closeReason ?? 'the server closed the connection';
		this.closeReason = undefined;
		if (this.stopped) return;
		this.scheduleReconnect(new Error(reason));
	}

	private scheduleReconnect(cause: unknown): void {
		if (this.stopped || this.reconnectTimer) return;
		this.outage.offline(cause, this.catchUp.handedOver);
		this.waitToReconnect(Date.now() + this.reconnect.nextDelay(cause));
	}

	/**
	 * Tries again at `due`. While logins are refused, the credential is read again every
	 * {@link CREDENTIAL_CHECK_MS} meanwhile, and a changed one is tried at once.
	 */
	private waitToReconnect(due: number): void {
		const checking = this.reconnect.refusing && this.credential.watching;
		const wait = Math.max(0, due - Date.now());
		this.reconnectTimer = setTimeout(
			async () => {
				if (this.stopped) return;
				if (checking && Date.now() < due && !(await this.credentialChanged())) {
					this.reconnectTimer = undefined;
					if (!this.stopped) this.waitToReconnect(due);
					return;
				}
				this.reconnectTimer = undefined;
				if (!this.stopped) await this.reconnectNow();
			},
			checking ? Math.min(wait, CREDENTIAL_CHECK_MS) : wait,
		);
	}

	/** Reads the credential again: true when it changed (the refusal pace then starts over). */
	private async credentialChanged(): Promise<boolean> {
		if (!(await this.credential.refresh())) return false;
		this.reconnect.credentialChanged();
		return true;
	}

	private async reconnectNow(): Promise<void> {
		const attempt = await settle(this.connect());
		if (this.stopped) return;
		if (attempt.error instanceof FatalSessionError) {
			// A key changed meanwhile (a rotation) is tried at once, before anything is reported.
			if (attempt.error.reason === 'auth' && (await this.credentialChanged())) {
				if (!this.stopped) this.waitToReconnect(Date.now());
				return;
			}
			const verdict = this.reconnect.refusal(this.options.onRefused !== undefined);
			if (verdict !== 'fatal') {
				// It worked before: keep trying, and say so once per outage.
				if (verdict === 'first') {
					this.options.logger.error(
						`${attempt.error.message} Retrying in a few seconds, then less and less often.`,
					);
					this.outage.reportedElsewhere();
					this.options.onRefused?.(attempt.error);
				}
				this.scheduleReconnect(attempt.error);
				return;
			}
			this.stopped = true;
			this.outage.stop();
			this.options.logger.error(attempt.error.message);
			this.options.onFatal(attempt.error);
		} else if (!attempt.ok) {
			this.scheduleReconnect(attempt.error);
		}
	}

	private idle(client: ImapFlow): void {
		if (client !== this.client || this.stopped || this.catchUp.running) return;
		// imapflow's own fallback would NOOP every 2 minutes, whatever the user set.
		if (!canIdle(client)) return this.poll.schedule();
		// Resolves when IDLE ends (a command breaks it); errors surface as 'close'.
		client.idle().catch(() => undefined);
	}
}
