/**
 * The after-run queue of one IMAP session: marking messages read or moving them once the run
 * they started succeeded, over the session's connection. Kept while disconnected and applied
 * after the reconnect; an action for a UID of an earlier UIDVALIDITY is dropped (the UID may
 * name another message now).
 */
import type { ImapFlow } from 'imapflow';

import type { PackageLogger } from '../../async';
import { errorText } from '../../errors';

/** Pending after-run actions kept while disconnected; older ones are dropped with a warning. */
const MAX_PENDING_ACTIONS = 10_000;

/** What to do with a message once its run succeeded. */
type Action = { kind: 'seen' } | { kind: 'move'; to: string };

/** What the queue needs of its session. */
export interface AfterRunHost {
	/** The connection in use now, if any. */
	current(): ImapFlow | undefined;
	/** A catch-up pass is running: its commands go first, the actions wait for its end. */
	catchingUp(): boolean;
	/** The folder's UIDVALIDITY as the current connection opened it. */
	uidValidity(): string | undefined;
	/** Idles again once the actions are applied. */
	idle(client: ImapFlow): void;
}

export class AfterRunQueue {
	/**
	 * Waiting actions by `uidValidity:uid`, oldest first: a later action for the same message
	 * replaces the earlier one.
	 */
	private readonly pending = new Map<
		string,
		{ uid: number; uidValidity: string; action: Action }
	>();
	/** The after-run flush in progress (resolved when none); see flush. */
	private flushing: Promise<void> = Promise.resolve();
	/** The warning that this server cannot move safely has been logged (once per session). */
	private unsafeMoveReported = false;

	constructor(
		/** The session: its current connection and UIDVALIDITY. */
		private readonly host: AfterRunHost,
		/** Where an action that could not be applied is reported. */
		private readonly logger: PackageLogger,
	) {}

	/** Queues an action for messages and applies what waits, at once when connected and idle. */
	async add(uids: number[], uidValidity: string, action: Action): Promise<void> {
		for (const uid of uids) this.pending.set(`${uidValidity}:${uid}`, { uid, uidValidity, action });
		while (this.pending.size > MAX_PENDING_ACTIONS) {
			const oldest = this.pending.keys().next().value as string;
			this.pending.delete(oldest);
			this.logger.warn(
				'Too many after-run actions waiting for the IMAP connection; dropped the oldest',
				{ dropped: oldest },
			);
		}
		await this.flush();
	}

	/** Applies the waiting after-run actions; flushes run one after another, never interleaved. */
	flush(): Promise<void> {
		// Two flushes at once would both see the same pending actions and apply them twice.
		this.flushing = this.flushing.then(() => this.flushOnce());
		return this.flushing;
	}

	/**
	 * Applies the waiting after-run actions, one command per kind of action (a UID set), so that
	 * a run of 20 messages costs one STORE, not 20.
	 */
	private async flushOnce(): Promise<void> {
		const client = this.host.current();
		if (!client || !client.usable || this.host.catchingUp()) return;
		const groups = new Map<string, { action: Action; keys: string[]; uids: number[] }>();
		for (const [key, { uid, uidValidity, action }] of this.pending) {
			// After a renumbering the UID points at another message, or at none.
			if (uidValidity !== this.host.uidValidity()) {
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
			// Without MOVE, imapflow copies, flags \Deleted and EXPUNGEs the whole folder: that
			// would also remove every other message marked deleted. Such a move is not made.
			if (action.kind === 'move' && !canMoveSafely(client)) {
				for (const key of keys) this.pending.delete(key);
				if (!this.unsafeMoveReported) {
					this.unsafeMoveReported = true;
					this.logger.warn(
						`The IMAP server supports neither MOVE nor UIDPLUS, so After the Run cannot move messages to "${action.to}" without also removing every other message marked deleted: they stay where they are. Choose "Mark as read" instead.`,
						{ uids },
					);
				}
				continue;
			}
			try {
				if (action.kind === 'seen') await client.messageFlagsAdd(set, ['\\Seen'], { uid: true });
				else await client.messageMove(set, action.to, { uid: true });
				for (const key of keys) this.pending.delete(key);
			} catch (error) {
				if (!client.usable) return; // Connection gone: kept for after the reconnect.
				for (const key of keys) this.pending.delete(key);
				this.logger.warn('Could not apply the after-run action', {
					uids,
					action: action.kind,
					error: errorText(error),
				});
			}
		}
		this.host.idle(client);
	}
}

/** MOVE, or UID EXPUNGE (UIDPLUS) that removes only the copied messages. */
function canMoveSafely(client: ImapFlow): boolean {
	return client.capabilities.has('MOVE') || client.capabilities.has('UIDPLUS');
}
