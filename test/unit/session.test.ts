/**
 * The session's path for a lone arrival, against a scripted IMAP client (the transport swapped
 * through createClient): when the message fetched by the next UID is provably the newest, no
 * listing follows; in every other case the listing runs and nothing is missed. Against real
 * Dovecot, test/integration/triggerDelivery.test.ts has the used-up UID, and every test in
 * test/integration/trigger*.test.ts that delivers single messages takes the lone-arrival path.
 */
import { EventEmitter } from 'node:events';

import type { FetchMessageObject, ImapFlow } from 'imapflow';

import { parseConnection } from '../../nodes/shared/connection';
import type { FetchedMessage } from '../../nodes/shared/fetchedMessage';
import type { CursorState } from '../../nodes/shared/imap/watch/cursor';
import { MailboxSession } from '../../nodes/shared/imap/watch/session';

interface StoredMessage {
	uid: number;
	subject: string;
}

/**
 * Just enough of imapflow for the session: one open folder whose messages the test puts in,
 * an 'exists' event as the server's untagged EXISTS, and a log of every FETCH range asked for.
 */
class ScriptedClient extends EventEmitter {
	readonly messages: StoredMessage[] = [];
	readonly fetches: string[] = [];
	mailbox: { exists: number } | false = false;
	usable = true;
	/** A server that pushes new mail: the session idles rather than polls. */
	readonly capabilities = new Map<string, boolean>([['IDLE', true]]);
	/** Runs inside the next FETCH, before it answers (a server that saw more mail meanwhile). */
	duringNextFetch?: () => void;

	constructor(private readonly uidNext: number) {
		super();
	}

	async connect(): Promise<void> {}

	async mailboxOpen() {
		this.mailbox = { exists: this.messages.length };
		return { uidValidity: 7n, uidNext: this.uidNext, exists: this.messages.length };
	}

	/** A message arrives and the server says so (EXISTS while idle). */
	arrive(message: StoredMessage, announce = true): void {
		this.messages.push(message);
		if (!announce || !this.mailbox) return;
		const prevCount = this.mailbox.exists;
		this.mailbox.exists = this.messages.length;
		this.emit('exists', { path: 'INBOX', count: this.mailbox.exists, prevCount });
	}

	async fetchAll(range: string): Promise<FetchMessageObject[]> {
		this.fetches.push(range);
		const hook = this.duringNextFetch;
		this.duringNextFetch = undefined;
		hook?.();
		const [from, to] = range.split(':');
		const last = to === '*' ? Infinity : Number(to ?? from);
		const matched = this.messages
			.map((message, index) => ({ message, seq: index + 1 }))
			.filter(({ message }) => message.uid >= Number(from) && message.uid <= last);
		// As IMAP does, "n:*" matches the newest message even when it is below n.
		if (to === '*' && !matched.length && this.messages.length) {
			matched.push({ message: this.messages.at(-1)!, seq: this.messages.length });
		}
		return matched.map(({ message, seq }) => ({
			seq,
			uid: message.uid,
			flags: new Set<string>(),
			size: 100,
			internalDate: new Date(),
			envelope: { messageId: `<${message.uid}@test>`, subject: message.subject },
			source: Buffer.from(`Subject: ${message.subject}\r\n\r\nbody\r\n`),
		})) as FetchMessageObject[];
	}

	idle(): Promise<boolean> {
		return new Promise(() => undefined);
	}

	async noop(): Promise<void> {}

	async logout(): Promise<void> {}

	close(): void {
		this.usable = false;
	}
}

const logger = { debug() {}, info() {}, warn() {}, error() {} };
const open: MailboxSession[] = [];

// Stopped even when a test fails, so that no liveness timer keeps jest waiting.
afterEach(async () => {
	for (const session of open.splice(0)) await session.stop();
});

async function startSession(client: ScriptedClient) {
	const handed: FetchedMessage[] = [];
	const session = new MailboxSession({
		connection: parseConnection({ email: 'agent@agentmail.test', apiKey: 'am_test_key' }),
		folder: 'INBOX',
		cursorState: {} as CursorState,
		startFrom: 'new',
		logger,
		onMessage: (message) => {
			handed.push(message);
		},
		onFatal: (error) => {
			throw error;
		},
		createClient: () => client as unknown as ImapFlow,
	});
	open.push(session);
	await session.start();
	return { handed };
}

/** A session caught up on a folder of ten old messages (UIDs 1–10); the FETCH log is empty. */
async function watchTenOld() {
	const client = new ScriptedClient(11);
	for (let uid = 1; uid <= 10; uid++) client.messages.push({ uid, subject: `old ${uid}` });
	const { handed } = await startSession(client);
	client.fetches.length = 0;
	return { client, handed };
}

/** Lets the session's promise chains run (no timers are involved). */
const settled = () => new Promise((resolve) => setImmediate(resolve));

describe('a lone arrival', () => {
	it('is fetched by its UID alone when it is the newest message: no listing after it', async () => {
		const { client, handed } = await watchTenOld();
		client.arrive({ uid: 11, subject: 'new' });
		await settled();
		expect(handed.map((m) => m.uid)).toEqual([11]);
		expect(client.fetches).toEqual(['11:11']);
	});

	it('is followed by the listing when more mail was announced during its FETCH', async () => {
		const { client, handed } = await watchTenOld();
		client.duringNextFetch = () => client.arrive({ uid: 12, subject: 'right behind' });
		client.arrive({ uid: 11, subject: 'new' });
		await settled();
		expect(handed.map((m) => m.uid)).toEqual([11, 12]);
		expect(client.fetches).toEqual(['11:11', '12:*', '12']);
	});

	it('is followed by the listing when it is not the last message in the folder', async () => {
		const { client, handed } = await watchTenOld();
		// The count grew during the FETCH without an 'exists' event reaching the session: the
		// message fetched is not the newest, so the listing must look past it.
		client.duringNextFetch = () => {
			client.arrive({ uid: 12, subject: 'counted, not announced' }, false);
			client.mailbox = { exists: 12 };
		};
		client.arrive({ uid: 11, subject: 'new' });
		await settled();
		expect(handed.map((m) => m.uid)).toEqual([11, 12]);
	});

	it('whose UID is not the next one (another came and went) is found by the listing', async () => {
		const { client, handed } = await watchTenOld();
		// UID 11 was used up by a message expunged before anyone heard of it.
		client.arrive({ uid: 12, subject: 'after a gap' });
		await settled();
		expect(handed.map((m) => m.uid)).toEqual([12]);
		expect(client.fetches).toEqual(['11:11', '11:*', '12']);
	});
});
