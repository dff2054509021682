/**
 * The trigger's watermark: which messages of the folder have already started a run.
 *
 * State lives in an object the caller owns (n8n's node static data, saved by n8n as each emit
 * goes out): the folder, its UIDVALIDITY and the highest UID handled, as strings (UIDVALIDITY
 * is a 32-bit unsigned number imapflow hands over as a BigInt), plus a bounded list of recent
 * Message-IDs and the time of the last complete sync. The last two only matter when the server
 * renumbers the folder (a new UIDVALIDITY): then UIDs mean nothing, and a message is new when
 * its Message-ID was not seen recently and it arrived after the last sync.
 */

/** Which messages already in the folder the first activation takes. */
export type StartFrom = 'new' | 'unread' | 'all';

/** What is kept between runs; mutate only through {@link Cursor} and {@link selectPlace}. */
export interface CursorState {
	/** The inbox watched; absent in state saved before there was a choice: the credential's. */
	inbox?: string;
	folder?: string;
	uidValidity?: string;
	/** Highest UID handled (emitted or deliberately skipped). */
	lastUid?: string;
	/** At first activation with "unread": UIDs up to here count only when unread. */
	baselineUid?: string;
	/** Message-IDs most recently handled, newest last. */
	recentIds?: string[];
	/** ISO time at which the folder was last known to be fully handled. */
	syncedAt?: string;
	/** Set after a UIDVALIDITY change, until the first sync of the new numbering completes. */
	resetSince?: string;
	/** The places (inbox and folder) watched before, each as it was left, to resume there. */
	places?: Record<string, SavedPlace>;
}

/** One place's watermark, kept while the trigger watches another. */
export type SavedPlace = Omit<CursorState, 'places'>;

/** Places kept besides the current one; the least recently synced go first. */
export const MAX_SAVED_PLACES = 50;

/** Message-IDs kept for UIDVALIDITY changes: enough for any burst around a renumbering. */
export const RECENT_IDS_KEPT = 200;
/**
 * After a renumbering, a message that arrived up to this long before the last sync still counts
 * as new if its Message-ID was not seen (clock skew between n8n and the server).
 */
export const RESET_GRACE_MS = 5 * 60_000;

function placeKey(inbox: string, folder: string): string {
	return `${inbox.toLowerCase()}\n${folder}`;
}

/**
 * Makes `state`'s top level the watermark of `inbox`'s `folder`: the place watched until now
 * is put aside (to resume there if the trigger is pointed back at it), and the one asked for is
 * taken back if it was watched before, or left empty for a first activation. The top level is
 * what n8n watches for changes (its static data tracks the objects it loaded, not ones added
 * later), so the cursor only ever moves there.
 *
 * @param ownInbox the credential's inbox: where state saved without an inbox belongs
 */
export function selectPlace(
	state: CursorState,
	inbox: string,
	folder: string,
	ownInbox: string,
): void {
	const currentInbox = state.inbox ?? (state.folder !== undefined ? ownInbox : undefined);
	if (
		currentInbox !== undefined &&
		currentInbox.toLowerCase() === inbox.toLowerCase() &&
		state.folder === folder
	) {
		state.inbox = inbox;
		return;
	}
	const places: Record<string, SavedPlace> = { ...state.places };
	const current: SavedPlace = { ...state };
	delete (current as CursorState).places;
	if (currentInbox !== undefined && state.folder !== undefined) {
		places[placeKey(currentInbox, state.folder)] = { ...current, inbox: currentInbox };
	}
	for (const field of Object.keys(current) as Array<keyof SavedPlace>) delete state[field];
	const key = placeKey(inbox, folder);
	const saved = places[key];
	delete places[key];
	if (saved) Object.assign(state, saved);
	state.inbox = inbox;
	// Bounded: an Inbox Address expression that changes often must not grow the state forever.
	const kept = Object.entries(places)
		.sort(([, a], [, b]) => String(b.syncedAt ?? '').localeCompare(String(a.syncedAt ?? '')))
		.slice(0, MAX_SAVED_PLACES);
	state.places = Object.fromEntries(kept);
}

/** A message as the cursor needs to judge it. */
export interface Candidate {
	uid: number;
	messageId?: string | null;
	seen: boolean;
	/** When the server received it (IMAP INTERNALDATE). */
	internalDate?: Date | null;
}

/** The watermark at one moment (advance() replaces recentIds rather than changing it). */
export type CursorMark = Pick<CursorState, 'lastUid' | 'recentIds'>;

/** How the mailbox compared with the saved state when it was opened. */
export type OpenOutcome = 'first' | 'same' | 'renumbered';

export class Cursor {
	constructor(
		private readonly state: CursorState,
		private readonly folder: string,
		private readonly startFrom: StartFrom,
	) {}

	/** Highest UID handled so far. */
	get lastUid(): number {
		return Number(this.state.lastUid ?? 0);
	}

	/** True until the first successful open stored a UIDVALIDITY for this folder. */
	get isFresh(): boolean {
		return this.state.uidValidity === undefined || this.state.folder !== this.folder;
	}

	/**
	 * Compares the opened mailbox with the saved state and sets the watermark for this session.
	 *
	 * @param uidValidity The folder's UIDVALIDITY.
	 * @param uidNext The UID the next arriving message will get.
	 */
	open(uidValidity: bigint | number | string, uidNext: number, now = new Date()): OpenOutcome {
		const validity = String(uidValidity);
		if (this.isFresh) {
			// First activation (or the user picked another folder): decide what counts as old.
			const existing = Math.max(0, uidNext - 1);
			this.state.folder = this.folder;
			this.state.uidValidity = validity;
			this.state.recentIds = [];
			this.state.syncedAt = now.toISOString();
			delete this.state.resetSince;
			if (this.startFrom === 'new') {
				this.state.lastUid = String(existing);
				delete this.state.baselineUid;
			} else {
				this.state.lastUid = '0';
				if (this.startFrom === 'unread') this.state.baselineUid = String(existing);
				else delete this.state.baselineUid;
			}
			return 'first';
		}
		if (this.state.uidValidity === validity) return 'same';
		// Renumbered (e.g. the folder was deleted and recreated): old UIDs are meaningless.
		this.state.uidValidity = validity;
		this.state.lastUid = '0';
		delete this.state.baselineUid;
		this.state.resetSince = this.state.resetSince ?? this.state.syncedAt ?? now.toISOString();
		return 'renumbered';
	}

	/** Whether a message after the watermark is one to emit (the caller still applies filters). */
	isNew(candidate: Candidate): boolean {
		if (candidate.uid <= this.lastUid) return false;
		const baseline = Number(this.state.baselineUid ?? 0);
		// "Unread mail already in the folder": older messages count only while unread.
		if (candidate.uid <= baseline && candidate.seen) return false;
		if (this.state.resetSince) {
			if (candidate.messageId && this.state.recentIds?.includes(candidate.messageId)) return false;
			const since = Date.parse(this.state.resetSince) - RESET_GRACE_MS;
			// Without an arrival time, a renumbered message can only be judged by its Message-ID.
			if (candidate.internalDate && candidate.internalDate.getTime() < since) return false;
		}
		return true;
	}

	/** Moves the watermark past a handled message (emitted or skipped). */
	advance(uid: number, messageId?: string | null): void {
		if (uid > this.lastUid) this.state.lastUid = String(uid);
		if (messageId) {
			const recent = (this.state.recentIds ?? []).filter((id) => id !== messageId);
			recent.push(messageId);
			this.state.recentIds = recent.slice(-RECENT_IDS_KEPT);
		}
	}

	/** Where the watermark is now, to go back to with {@link rewind}. */
	mark(): CursorMark {
		return { lastUid: this.state.lastUid, recentIds: this.state.recentIds };
	}

	/**
	 * Puts the watermark back to a mark taken before a message whose hand-over failed, so the
	 * message is fetched again instead of lost: its Message-ID leaves the recent list too, or a
	 * renumbered folder's catch-up would take it for handled.
	 */
	rewind(mark: CursorMark): void {
		this.state.lastUid = mark.lastUid;
		this.state.recentIds = mark.recentIds;
	}

	/** Records that everything up to the watermark is handled; ends a renumbering catch-up. */
	synced(now = new Date()): void {
		this.state.syncedAt = now.toISOString();
		delete this.state.resetSince;
		if (this.state.baselineUid && this.lastUid >= Number(this.state.baselineUid)) {
			delete this.state.baselineUid;
		}
	}
}
