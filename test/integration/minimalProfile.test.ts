/**
 * Every feature against the `minimal` profile (tools/sandbox/profiles.ts): an IMAP server that
 * announces IMAP4rev1 and nothing else (no IDLE, MOVE, UIDPLUS, CONDSTORE, SPECIAL-USE...),
 * sends no APPENDUID or COPYUID, and marks no folder \Sent or \Trash in LIST. What each
 * feature does there today: the same as on Dovecot, less (and how), or a clear refusal.
 * Where today's answer is wrong the test is a todo naming what it should do.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import tls from 'node:tls';

import { simpleParser } from 'mailparser';

import { AgentMail } from '../../nodes/AgentMail/AgentMail.node';
import { mail } from '../helpers/mailbox';
import { operationRunner, runNode } from '../helpers/nodeHarness';
import { askTwice, expectAskedOnce } from '../helpers/question';
import {
	credentialData,
	deliver,
	imapClient,
	listMessages,
	sandboxInfo,
	useOwnSandbox,
} from '../helpers/sandbox';
import { activateTrigger, message, type ActiveTrigger } from '../../tools/triggerHarness';
import { dropResponseCodes } from '../../tools/sandbox/imapProxy';
import { waitFor } from '../../tools/wait';

const agent = 'agent@agentmail.test';
const peer = 'peer@agentmail.test';
const node = new AgentMail();
const sandbox = useOwnSandbox('minimal');
/** Extensions Dovecot has and the profile takes away. */
const GONE = ['IDLE', 'MOVE', 'UIDPLUS', 'CONDSTORE', 'QRESYNC', 'SPECIAL-USE', 'ESEARCH'];
const GONE_TOO = ['LIST-STATUS', 'SORT', 'THREAD=REFERENCES', 'ENABLE', 'NAMESPACE', 'LITERAL+'];

const run = (operation: string, items: Array<Record<string, unknown>>, parameters = {}) =>
	runNode({
		node,
		credentials: credentialData(agent),
		parameters: { resource: 'message', operation, ...parameters },
		items: items.map((json) => ({ json: json as never })),
	});

/** The greeting and the answer to CAPABILITY before login, read on the wire. */
async function preLogin(): Promise<string> {
	const info = sandboxInfo();
	const socket = tls.connect({
		host: info.imap.host,
		port: info.imap.port,
		ca: readFileSync(info.ca),
		servername: 'localhost',
	});
	let text = '';
	socket.on('data', (chunk: Buffer) => {
		text += chunk.toString('latin1');
		if (/^\* OK/m.test(text) && !text.includes('a CAPABILITY')) {
			socket.write('a CAPABILITY\r\n');
			text += 'a CAPABILITY\r\n';
		}
	});
	await waitFor('the pre-login CAPABILITY', () => /^a OK/m.test(text));
	socket.destroy();
	return text;
}

/**
 * A folder of its own with the messages, in order. Without UIDPLUS an APPEND gives no UID
 * (test/helpers/mailbox.ts's seedFolder needs one), so the UIDs are read afterwards.
 */
async function seed(prefix: string, raws: string[], flags: string[][] = []) {
	const folder = `${prefix}-${randomUUID().slice(0, 8)}`;
	const client = await imapClient(agent);
	try {
		await client.mailboxCreate(folder);
		for (const [k, raw] of raws.entries()) await client.append(folder, raw, flags[k] ?? []);
		const box = await client.mailboxOpen(folder, { readOnly: true });
		const uids = raws.length ? (await client.fetchAll('1:*', { uid: true })).map((m) => m.uid) : [];
		return { folder, uids, uidValidity: String(box.uidValidity) };
	} finally {
		await client.logout();
	}
}

const subjectsIn = async (folder: string) =>
	(await listMessages(agent, folder)).map((m) => m.subject ?? '');

describe('the profile itself', () => {
	it('announces IMAP4rev1 only: before login with the AUTH mechanisms, after login nothing more', async () => {
		const before = await preLogin();
		expect(before).toMatch(/^\* OK \[CAPABILITY IMAP4rev1 AUTH=PLAIN AUTH=LOGIN\]/);
		expect(before).toMatch(/^\* CAPABILITY IMAP4rev1 AUTH=PLAIN AUTH=LOGIN\r$/m);
		const client = await imapClient(agent);
		try {
			expect([...client.capabilities.keys()]).toEqual(['IMAP4rev1']);
			for (const name of [...GONE, ...GONE_TOO]) expect(client.capabilities.has(name)).toBe(false);
			const listed = await client.list();
			expect(listed.map((f) => f.path).sort()).toEqual([
				'Drafts',
				'INBOX',
				'Sent',
				'Spam',
				'Trash',
			]);
			// No special-use flag on the wire; imapflow guesses them from the names.
			const SPECIAL = ['\\Sent', '\\Trash', '\\Junk', '\\Drafts', '\\All', '\\Archive'];
			expect(listed.filter((f) => SPECIAL.some((flag) => f.flags.has(flag)))).toEqual([]);
			expect(new Set(listed.filter((f) => f.specialUse).map((f) => f.specialUseSource))).toEqual(
				new Set(['name']),
			);
			// No UIDPLUS: APPEND and COPY answer without the new UIDs.
			await client.mailboxOpen('INBOX');
			// (imapflow looks up the UID itself when the folder appended to is the one selected.)
			const appended = await client.append('Spam', message('Appended').raw);
			expect(appended && appended.uid).toBeFalsy();
			const copied = await client.messageCopy('1:*', 'Trash');
			expect(copied && copied.uidMap).toBeFalsy();
		} finally {
			await client.logout();
		}
		expect(sandbox().info.profile).toBe('minimal');
	});

	it('the proxy takes out only the response codes it is told to', () => {
		const codes = ['APPENDUID', 'HIGHESTMODSEQ'];
		expect(dropResponseCodes('a3 OK [APPENDUID 7 4] Append completed.\r\n', codes)).toBe(
			'a3 OK Append completed.\r\n',
		);
		expect(dropResponseCodes('* OK [HIGHESTMODSEQ 9] Highest\r\n', codes)).toBe('* OK Highest\r\n');
		expect(dropResponseCodes('* OK [UIDNEXT 5] Predicted\r\n', codes)).toBe(
			'* OK [UIDNEXT 5] Predicted\r\n',
		);
		expect(dropResponseCodes('* 1 FETCH (BODY[HEADER] "[APPENDUID 1 1]")\r\n', codes)).toBe(
			'* 1 FETCH (BODY[HEADER] "[APPENDUID 1 1]")\r\n',
		);
	});
});

describe('the trigger, without IDLE', () => {
	const open: ActiveTrigger[] = [];
	afterEach(async () => {
		for (const trigger of open.splice(0)) await trigger.close();
	});
	const activate = async (parameters: Record<string, unknown> = {}) => {
		const trigger = await activateTrigger({ credentials: credentialData(agent), parameters });
		open.push(trigger);
		return trigger;
	};

	it('a new message starts a run at the next connection check (half of Connection Check), not at once', async () => {
		const trigger = await activate({ options: { livenessSeconds: 10 } });
		const { raw, messageId } = message(`Polled ${randomUUID()}`);
		await deliver(agent, raw);
		await waitFor('the run', () => trigger.items().length === 1, 15_000);
		// With IDLE it is about 0.5 s; here the NOOP every 5 s finds it (the wait's bound).
		expect(trigger.items()[0].json.messageId).toBe(messageId);
	});

	it('Poll Interval: each message is emitted once within a few polls, none twice, and one info line says why', async () => {
		// Connection Check at 600 s: its NOOP (every 300 s) cannot be what finds the mail here.
		const trigger = await activate({ options: { livenessSeconds: 600, pollSeconds: 5 } });
		const first = message(`Poll 1 ${randomUUID()}`);
		await deliver(agent, first.raw);
		// Without the poll, imapflow's own fallback asks only every 2 minutes.
		await waitFor('the first run', () => trigger.items().length === 1, 15_000);
		const more = [message(`Poll 2 ${randomUUID()}`), message(`Poll 3 ${randomUUID()}`)];
		for (const m of more) await deliver(agent, m.raw);
		await waitFor('the other runs', () => trigger.items().length >= 3, 15_000);
		// Two more polls find nothing new.
		await new Promise((resolve) => setTimeout(resolve, 11_000));
		const emitted = trigger.items().map((item) => String(item.json.messageId));
		expect(emitted.sort()).toEqual([first, ...more].map((m) => m.messageId).sort());
		const polling = trigger.logs.filter((log) => /does not announce IDLE/.test(log.message));
		expect(polling).toHaveLength(1);
		expect(polling[0].level).toBe('info');
		expect(polling[0].message).toContain('every 5 s');
	}, 60_000);

	it('with the defaults (Poll Interval 30 s) the run comes within about 30 s', async () => {
		const trigger = await activate();
		const { raw } = message(`Default ${randomUUID()}`);
		await deliver(agent, raw);
		await waitFor('the run', () => trigger.items().length === 1, 40_000);
	}, 60_000);

	it('Move to Folder after a run moves nothing (it would expunge every message marked deleted) and says so once', async () => {
		// Another client's message, marked deleted and not yet expunged.
		const client = await imapClient(agent);
		const kept = `Marked deleted ${randomUUID()}`;
		try {
			await client.mailboxOpen('INBOX');
			await client.append('INBOX', message(kept).raw, ['\\Deleted', '\\Seen']);
		} finally {
			await client.logout();
		}
		const trigger = await activate({
			afterRun: 'move',
			moveTo: 'Trash',
			options: { livenessSeconds: 10 },
		});
		const subject = `Handled ${randomUUID()}`;
		await deliver(agent, message(subject).raw);
		await waitFor('the run', () => trigger.items().length === 1, 15_000);
		await waitFor(
			'the warning',
			() =>
				trigger.logs.some(
					(log) => log.level === 'warn' && /neither MOVE nor UIDPLUS/.test(log.message),
				),
			15_000,
		);
		const inbox = (await listMessages(agent, 'INBOX')).map((m) => m.subject);
		expect(inbox).toEqual(expect.arrayContaining([kept, subject]));
		expect((await listMessages(agent, 'Trash')).some((m) => m.subject === subject)).toBe(false);
	});
});

describe('reading', () => {
	const a = mail(1, 'Jane <jane@customer.example>', 'Invoice A', 'Text of A.');
	const b = mail(2, 'Bob <bob@supplier.example>', 'Lunch B', 'Text of B.', {
		headers: ['X-Ticket: T-9'],
	});

	it('Get Many and its filters answer as on Dovecot', async () => {
		const { folder, uids } = await seed('Many', [a.raw, b.raw], [['\\Seen'], ['\\Flagged']]);
		const getMany = operationRunner(node, () => credentialData(agent), {
			resource: 'message',
			operation: 'getMany',
			folder,
			returnAll: true,
			format: 'headers',
		});
		const subjects = async (filters: Record<string, unknown>) =>
			(await getMany({ filters })).output[0].map((o) => o.json.subject);
		expect((await getMany()).output[0].map((o) => o.json.uid)).toEqual([uids[1], uids[0]]);
		expect(await subjects({ subject: 'invoice' })).toEqual(['Invoice A']);
		expect(await subjects({ from: 'bob@supplier.example' })).toEqual(['Lunch B']);
		expect(await subjects({ readStatus: 'unread' })).toEqual(['Lunch B']);
		expect(await subjects({ flagged: 'flagged' })).toEqual(['Lunch B']);
		expect(await subjects({ headerName: 'X-Ticket', headerValue: 'T-9' })).toEqual(['Lunch B']);
		expect(await subjects({ text: 'Text of A' })).toEqual(['Invoice A']);
		expect(await subjects({ messageId: b.messageId })).toEqual(['Lunch B']);
		const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
		expect((await subjects({ since: yesterday })).sort()).toEqual(['Invoice A', 'Lunch B']);
	});

	it('Get reads by input item, by UID and by Message-ID', async () => {
		const { folder, uids, uidValidity } = await seed('Get', [a.raw, b.raw]);
		const byItem = await run('get', [{ uid: uids[0], uidValidity, folder }]);
		expect(byItem.output[0][0].json).toMatchObject({ subject: 'Invoice A', text: 'Text of A.\n' });
		const byUid = await run('get', [{}], { messageFrom: 'uid', folder, uid: uids[1], uidValidity });
		expect(byUid.output[0][0].json.subject).toBe('Lunch B');
		const byId = await run('get', [{}], {
			messageFrom: 'messageId',
			folder,
			messageId: b.messageId,
		});
		expect(byId.output[0][0].json).toMatchObject({ uid: uids[1], subject: 'Lunch B' });
	});

	it('Folder → Get Many lists every folder with its counts; special uses guessed from the names', async () => {
		const { folder } = await seed('Counts', [a.raw, b.raw], [['\\Seen']]);
		const { output } = await runNode({
			node,
			credentials: credentialData(agent),
			parameters: { resource: 'folder', operation: 'getMany', inbox: '' },
			items: [{ json: {} }],
		});
		const folders = output[0].map((o) => o.json);
		expect(folders.find((f) => f.path === folder)).toMatchObject({ total: 2, unread: 1 });
		expect(folders.map((f) => f.path)).toEqual(
			expect.arrayContaining(['INBOX', 'Sent', 'Trash', 'Spam', 'Drafts']),
		);
		// Unmarked on the wire, the usual names still get their use (imapflow guesses it).
		expect(folders.find((f) => f.path === 'Sent')?.specialUse).toBe('\\Sent');
		expect(folders.find((f) => f.path === 'Trash')?.specialUse).toBe('\\Trash');
		expect(folders.find((f) => f.path === folder)?.specialUse).toBeNull();
		// The Drafts note goes by the folder's name as well.
		expect(folders.find((f) => f.path === 'Drafts')?.note).toEqual(expect.any(String));
	});
});

describe('changing', () => {
	const seedThree = async (prefix: string, flags: string[][] = []) => {
		const raws = [1, 2, 3].map((k) => mail(k, 'Jane <jane@x.example>', `${prefix} ${k}`, 'x').raw);
		const seeded = await seed(prefix, raws, flags);
		return {
			...seeded,
			items: seeded.uids.map((uid) => ({
				uid,
				uidValidity: seeded.uidValidity,
				folder: seeded.folder,
			})),
		};
	};

	it('Mark as Read / Unread, Flag and Unflag work as on Dovecot', async () => {
		const { folder, items } = await seedThree('Flags');
		await run('markRead', [items[0]]);
		await run('flag', [items[1]]);
		const flags = Object.fromEntries(
			(await listMessages(agent, folder)).map((m) => [
				m.subject,
				m.flags.filter((f) => f !== '\\Recent'),
			]),
		);
		expect(flags).toEqual({ 'Flags 1': ['\\Seen'], 'Flags 2': ['\\Flagged'], 'Flags 3': [] });
		await run('markUnread', [items[0]]);
		await run('unflag', [items[1]]);
		expect((await listMessages(agent, folder)).every((m) => m.flags.length === 0)).toBe(true);
	});

	it('Move, Delete and Delete Permanently refuse, saying why, and change nothing', async () => {
		const { folder, items } = await seedThree('Refused', [[], ['\\Deleted'], []]);
		await expect(run('move', [items[0]], { destination: 'Spam' })).rejects.toThrow(
			'agent@agentmail.test supports neither MOVE nor UIDPLUS, so moving one message would also remove every other message marked deleted',
		);
		await expect(run('delete', [items[0]])).rejects.toThrow(/supports neither MOVE nor UIDPLUS/);
		await expect(run('delete', [items[0]], { permanent: true })).rejects.toThrow(
			'agent@agentmail.test does not support UID EXPUNGE (UIDPLUS): deleting permanently would also remove every other message marked deleted',
		);
		expect(await subjectsIn(folder)).toEqual(['Refused 1', 'Refused 2', 'Refused 3']);
	});
});

describe('sending', () => {
	const received = async (tag: string) =>
		await Promise.all(
			(await listMessages(peer, 'INBOX'))
				.filter((m) => m.subject?.includes(tag))
				.map(async (m) => await simpleParser(m.source)),
		);

	it('Send goes out once and its copy is in Sent', async () => {
		const tag = randomUUID();
		const { output } = await run('send', [{}], { to: peer, subject: `Hello ${tag}`, text: 'Hi' });
		expect(output[0][0].json).toMatchObject({ sent: true });
		expect((await received(tag)).map((m) => m.messageId)).toEqual([output[0][0].json.messageId]);
		expect((await subjectsIn('Sent')).filter((s) => s.includes(tag))).toHaveLength(1);
	});

	it('Forward sends the original; the same item again is held by Send Once', async () => {
		const tag = randomUUID();
		const original = mail(4, 'Jane <jane@customer.example>', `Contract ${tag}`, 'Signed.');
		const { folder, uids } = await seed('Fwd', [original.raw]);
		const item = { uid: uids[0], folder, messageId: original.messageId };
		const first = await run('forward', [item], { to: peer, text: 'FYI' });
		expect(first.output[0][0].json).toMatchObject({ sent: true, subject: `Fwd: Contract ${tag}` });
		const again = await run('forward', [item], { to: peer, text: 'FYI' });
		expect(again.output[0][0].json).toMatchObject({ sent: false, alreadySent: true });
		expect(await received(tag)).toHaveLength(1);
	});

	it('Reply with Send Once answers once; a retry finds its copy in Sent (found by name)', async () => {
		const original = { messageId: `<q.${randomUUID()}@outside.example>`, subject: 'Question' };
		const reply = () =>
			run('reply', [{ ...original, from: { address: peer, name: 'Peer' } }], {
				source: 'inputItem',
				text: 'Answer',
			});
		const first = (await reply()).output[0][0].json;
		expect(first).toMatchObject({ sent: true, sendOnceCheck: 'server-search' });
		const second = (await reply()).output[0][0].json;
		expect(second).toMatchObject({ sent: false, alreadySent: true, messageId: first.messageId });
		let answers = 0;
		for (const m of await listMessages(peer, 'INBOX')) {
			if ((await simpleParser(m.source)).inReplyTo === original.messageId) answers++;
		}
		expect(answers).toBe(1);
	});

	it('Send and Wait: the question goes out once; asked again in the same execution, it is not sent again', async () => {
		const { subject, first, again } = await askTwice(agent, peer);
		expectAskedOnce(first, again);
		expect(first.item.sendOnceCheck).toBe('server-search');
		expect(await received(subject.slice(8, 16))).toHaveLength(1);
	});

	it('Thread → Get gives the conversation from INBOX and Sent (found by name)', async () => {
		const tag = randomUUID().slice(0, 8);
		const id = (name: string) => `<${name}.${tag}@outside.example>`;
		const raw = (headers: string[], subject: string) =>
			[`From: Peer <${peer}>`, `To: ${agent}`, `Subject: ${subject}`, ...headers, '', 'x', ''].join(
				'\r\n',
			);
		const at = (m: number) => `Date: ${new Date(Date.now() + m * 60_000).toUTCString()}`;
		await deliver(agent, raw([`Message-ID: ${id('a')}`, at(-3)], `Order ${tag}`));
		const replied = await run(
			'reply',
			[{ messageId: id('a'), subject: `Order ${tag}`, from: { address: peer } }],
			{
				source: 'inputItem',
				text: 'Noted',
			},
		);
		const r = String(replied.output[0][0].json.messageId);
		await deliver(
			agent,
			raw(
				[`Message-ID: ${id('b')}`, `In-Reply-To: ${r}`, `References: ${id('a')} ${r}`, at(1)],
				`Re: Order ${tag}`,
			),
		);
		const { output } = await run(
			'get',
			[{ messageId: id('b'), inReplyTo: r, references: [id('a'), r] }],
			{
				resource: 'thread',
				format: 'headers',
			},
		);
		const thread = output[0][0].json;
		expect(thread).toMatchObject({ count: 3, folders: ['INBOX', 'Sent'] });
		expect((thread.messages as Array<Record<string, unknown>>).map((m) => m.folder)).toEqual([
			'INBOX',
			'Sent',
			'INBOX',
		]);
	});
});
