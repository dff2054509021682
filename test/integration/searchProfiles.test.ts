/**
 * Send Once, Thread → Get and Get Many against servers without HEADER, BODY or TEXT search:
 * a sandbox of this file's own per profile (tools/sandbox/profiles.ts), one that refuses such
 * searches (search-subset) and one that ignores their keys and answers with every message
 * (search-ignore). What each feature must still do: find what is there, never report what is
 * not, and say when it could not look everywhere.
 */
import { randomUUID } from 'node:crypto';

import type { ImapFlow } from 'imapflow';
import { simpleParser } from 'mailparser';

import { AgentMail } from '../../nodes/AgentMail/AgentMail.node';
import { InboxClient } from '../../nodes/shared/imap/inbox';
import { locateMessage } from '../../nodes/shared/imap/locate';
import { findThread } from '../../nodes/shared/imap/thread';
import {
	lookupSent,
	RECENT_SENT_SCANNED,
	SEND_ONCE_HEADER,
	sendOnceIdentity,
} from '../../nodes/shared/smtp/sendOnce';
import { operationRunner, runNode } from '../helpers/nodeHarness';
import { askTwice, expectAskedOnce } from '../helpers/question';
import {
	credentialData,
	deliver,
	imapClient,
	listMessages,
	useOwnSandbox,
} from '../helpers/sandbox';
import { activateTrigger } from '../../tools/triggerHarness';
import { waitFor } from '../../tools/wait';

const agent = 'agent@agentmail.test';
const peer = 'peer@agentmail.test';
const node = new AgentMail();
/**
 * Messages put in Sent and INBOX first: more than a search for a few keys may return, so that
 * an answer with the whole folder reads as keys ignored.
 */
const FILLERS = 20;
/** Filling Sent past what Send Once reads appends this many messages. */
const FILL_TIMEOUT_MS = 120_000;

function raw(headers: string[], subject: string, from = `Peer <${peer}>`, to = agent): string {
	return [
		`From: ${from}`,
		`To: ${to}`,
		`Subject: ${subject}`,
		...(headers.some((h) => h.startsWith('Date:')) ? [] : [`Date: ${new Date().toUTCString()}`]),
		...headers,
		'',
		`Text of ${subject}.`,
		'',
	].join('\r\n');
}

async function append(folder: string, messages: string[]): Promise<void> {
	const client = await imapClient(agent);
	try {
		for (const message of messages) await client.append(folder, message, ['\\Seen']);
	} finally {
		await client.logout();
	}
}

const fillers = (count: number, tag: string) =>
	Array.from({ length: count }, (_, k) =>
		raw([`Message-ID: <filler.${k}.${tag}@agentmail.test>`], `Filler ${k} ${tag}`, agent, peer),
	);

describe.each(['search-subset', 'search-ignore'] as const)('the %s profile', (profile) => {
	const sandbox = useOwnSandbox(profile);
	// Its own block: its afterAll logs the client out before the sandbox stops.
	describe('one inbox', () => {
		let client: ImapFlow;
		beforeAll(async () => {
			expect(sandbox().info.profile).toBe(profile);
			await append('Sent', fillers(FILLERS, 'sent'));
			client = await imapClient(agent);
		});
		afterAll(async () => {
			await client?.logout();
		});

		it('Send Once finds copies by Message-ID or by header in the newest headers, and nothing else', async () => {
			const scope = randomUUID();
			const [byId, byHeader, contained, never] = ['id', 'header', 'contained', 'never'].map((key) =>
				sendOnceIdentity(agent, scope, key),
			);
			await append('Sent', [
				raw([`Message-ID: ${byId.messageId}`], 'by id', agent, peer),
				raw(
					[
						`Message-ID: <rewritten.${scope}@relay.example>`,
						`${SEND_ONCE_HEADER}: ${byHeader.hash}`,
					],
					'by header',
					agent,
					peer,
				),
				raw(
					[`Message-ID: <x.${scope}@x>`, `${SEND_ONCE_HEADER}: prefix-${contained.hash}`],
					'contains the hash',
					agent,
					peer,
				),
			]);
			const lookup = await lookupSent(client, [byId, byHeader, contained, never]);
			expect([...lookup.found.keys()].sort()).toEqual([byId.hash, byHeader.hash].sort());
			expect(lookup.found.get(byHeader.hash)).toMatchObject({
				folder: 'Sent',
				subject: 'by header',
			});
			expect(lookup).toMatchObject({ check: 'recent-headers', folder: 'Sent', unchecked: 0 });
		});

		it('a copy older than the newest messages it reads is not seen, and the lookup says so', async () => {
			const old = sendOnceIdentity(agent, randomUUID(), 'old');
			await append('Sent', [raw([`Message-ID: ${old.messageId}`], 'old copy', agent, peer)]);
			await append('Sent', fillers(3, randomUUID()));
			const seen = await lookupSent(client, [old], 4);
			expect(seen.found.has(old.hash)).toBe(true);
			const missed = await lookupSent(client, [old], 3);
			expect(missed.found.size).toBe(0);
			expect(missed.check).toBe('recent-headers');
			expect(missed.unchecked).toBeGreaterThan(FILLERS);
		});

		const reply = async (items: Array<{ messageId: string; subject: string }>) =>
			await runNode({
				node,
				credentials: credentialData(agent),
				parameters: {
					resource: 'message',
					operation: 'reply',
					source: 'inputItem',
					text: 'Answer',
				},
				items: items.map((item) => ({ json: { ...item, from: { address: peer, name: 'Peer' } } })),
			});

		async function answersTo(messageId: string): Promise<number> {
			let count = 0;
			for (const m of await listMessages(peer, 'INBOX')) {
				if ((await simpleParser(m.source)).inReplyTo === messageId) count++;
			}
			return count;
		}

		it('Reply with Send Once sends once, a retry sends nothing, and both items say how Sent was checked', async () => {
			const original = { messageId: `<q.${randomUUID()}@outside.example>`, subject: 'Question' };
			const first = await reply([original]);
			expect(first.output[0][0].json).toMatchObject({
				sent: true,
				sendOnceCheck: 'recent-headers',
			});
			expect(first.output[0][0].json.sendOnceWarning).toBeUndefined();
			const again = await reply([original]);
			expect(again.output[0][0].json).toMatchObject({
				sent: false,
				alreadySent: true,
				messageId: first.output[0][0].json.messageId,
				sendOnceCheck: 'recent-headers',
			});
			expect(await answersTo(original.messageId)).toBe(1);
		});

		it(
			'with more mail in Sent than it reads, each item warns and the log says so once',
			async () => {
				await append('Sent', fillers(RECENT_SENT_SCANNED, randomUUID()));
				const originals = ['one', 'two'].map((name) => ({
					messageId: `<${name}.${randomUUID()}@outside.example>`,
					subject: name,
				}));
				const first = await reply(originals);
				for (const item of first.output[0]) {
					expect(item.json).toMatchObject({ sent: true, sendOnceCheck: 'recent-headers' });
					expect(item.json.sendOnceWarning).toMatch(/only the newest 500 messages of "Sent"/);
				}
				expect(first.logs.filter((log) => log.level === 'warn')).toHaveLength(1);
				// The copies just sent are among the newest: a retry still finds them.
				const again = await reply(originals);
				expect(again.output[0].map((o) => o.json.alreadySent)).toEqual([true, true]);
				for (const original of originals) expect(await answersTo(original.messageId)).toBe(1);
			},
			FILL_TIMEOUT_MS,
		);

		/** A, the inbox's reply R (in Sent), B answering R, C answering B with only B in References. */
		async function conversation() {
			const tag = randomUUID().slice(0, 8);
			const id = (name: string) => `<${name}.${tag}@outside.example>`;
			const at = (minutes: number) =>
				`Date: ${new Date(Date.now() + minutes * 60_000).toUTCString()}`;
			const a = id('a');
			await deliver(agent, raw([`Message-ID: ${a}`, at(-3)], `Order ${tag}`));
			await deliver(agent, raw([`Message-ID: ${id('other')}`, at(-2)], `Unrelated ${tag}`));
			const replied = await reply([{ messageId: a, subject: `Order ${tag}` }]);
			const r = String(replied.output[0][0].json.messageId);
			const b = id('b');
			const c = id('c');
			const answer = (own: string, parents: string[]) => [
				`Message-ID: ${own}`,
				`In-Reply-To: ${parents[parents.length - 1]}`,
				`References: ${parents.join(' ')}`,
			];
			await deliver(agent, raw([...answer(b, [a, r]), at(1)], `Re: Order ${tag}`));
			await deliver(agent, raw([...answer(c, [b]), at(2)], `Re: Order ${tag}`));
			return { a, r, b, c };
		}

		it('Thread → Get gives the whole conversation, as on Dovecot', async () => {
			const t = await conversation();
			const getThread = operationRunner(node, () => credentialData(agent), {
				resource: 'thread',
				operation: 'get',
			});
			const { output } = await getThread({ format: 'headers' }, [
				{ messageId: t.c, inReplyTo: t.b, references: [t.b] },
			]);
			const thread = output[0][0].json;
			expect(thread).toMatchObject({ count: 4, truncated: false, folders: ['INBOX', 'Sent'] });
			const messages = thread.messages as Array<Record<string, unknown>>;
			expect(messages.map((m) => [m.messageId, m.folder])).toEqual([
				[t.a, 'INBOX'],
				[t.r, 'Sent'],
				[t.b, 'INBOX'],
				[t.c, 'INBOX'],
			]);
		});

		it('a thread read from fewer messages than the folder holds is marked incomplete', async () => {
			const t = await conversation();
			const inbox = new InboxClient(client, agent);
			const whole = await findThread(inbox, { messageId: t.a }, ['INBOX', 'Sent']);
			expect(whole.members.map((m) => m.messageId)).toEqual([t.a, t.r, t.b, t.c]);
			expect(whole.complete).toBe(true);
			expect(client.usable).toBe(true);
			// The newest 2 of INBOX are B and C: A is out of reach.
			const cut = await findThread(inbox, { messageId: t.c, references: [t.b] }, ['INBOX'], 2);
			expect(cut.members.map((m) => m.messageId)).toEqual([t.b, t.c]);
			expect(cut.complete).toBe(false);
		});
		it('a Message-ID is looked up among the newest messages only, never taken for another, and the error says how far it looked', async () => {
			const tag = randomUUID().slice(0, 8);
			const id = (name: string) => `<${name}.${tag}@outside.example>`;
			// More than a search for one Message-ID may return: an answer with all reads as ignored.
			for (const name of ['old', 'n1', 'n2', 'n3', 'n4', 'n5']) {
				await deliver(agent, raw([`Message-ID: ${id(name)}`], `Locate ${name} ${tag}`));
			}
			const uidOf = async (name: string) =>
				(await listMessages(agent, 'INBOX')).find((m) => m.messageId === id(name))?.uid;
			const inbox = new InboxClient(client, agent);
			const found = await locateMessage(inbox, { folder: 'INBOX', messageId: id('n4') });
			expect(found).toMatchObject({ uid: await uidOf('n4'), messageId: id('n4') });
			// An id that others contain, or none has: not found, never one of them.
			for (const missing of [`<n.${tag}@outside.example>`, `<gone.${tag}@outside.example>`]) {
				await expect(locateMessage(inbox, { folder: 'INBOX', messageId: missing })).rejects.toThrow(
					/No message with Message-ID .* (is in|is among the newest)/,
				);
			}
			// Reading the newest 5: the sixth newest is out of reach, and the error says so.
			await expect(
				locateMessage(inbox, { folder: 'INBOX', messageId: id('old') }, false, 5),
			).rejects.toThrow(
				new RegExp(
					`No message with Message-ID ${id('old')} is among the newest 5 of "INBOX" of ${agent}; this server does not search by Message-ID, so the \\d+ older ones were not read`,
				),
			);
			expect(client.usable).toBe(true);
		});

		it('Get Many: a Subject filter gives only matching mail; header and body filters checked or refused by name', async () => {
			const tag = randomUUID().slice(0, 8);
			await deliver(agent, raw([`Message-ID: <gm1.${tag}@x>`], `Invoice ${tag}`));
			await deliver(agent, raw([`Message-ID: <gm2.${tag}@x>`, 'X-Ticket: T-9'], `Lunch ${tag}`));
			const getMany = operationRunner(node, () => credentialData(agent), {
				resource: 'message',
				operation: 'getMany',
				returnAll: true,
				format: 'headers',
			});
			const subjects = (result: Awaited<ReturnType<typeof getMany>>) =>
				result.output[0].map((o) => o.json.subject);
			expect(subjects(await getMany({ filters: { subject: `invoice ${tag}` } }))).toEqual([
				`Invoice ${tag}`,
			]);
			const byHeader = () => getMany({ filters: { headerName: 'X-Ticket', headerValue: 'T-9' } });
			const byBody = () => getMany({ filters: { text: 'words in no message' } });
			if (profile === 'search-subset') {
				await expect(byHeader()).rejects.toThrow(
					/refused to search "INBOX" by Header Name "x-ticket": it does not support IMAP SEARCH HEADER/,
				);
				await expect(byBody()).rejects.toThrow(
					/by Body Contains: it does not support IMAP SEARCH BODY/,
				);
			} else {
				expect(subjects(await byHeader())).toEqual([`Lunch ${tag}`]);
				// Ignored BODY cannot be checked here: the search fails naming it, never returning
				// mail the filter was not applied to, whether or not a message matches.
				for (const text of ['words in no message', `Text of Lunch ${tag}`]) {
					await expect(getMany({ filters: { text } })).rejects.toThrow(
						`agent@agentmail.test's IMAP server ignores IMAP SEARCH BODY in "INBOX": it answered with messages that do not contain the text, so Body Contains cannot be applied. Nothing was returned.`,
					);
				}
			}
		});

		it('Get Many: From and To are searched; Message-ID and Has Attachments checked here, or refused by name', async () => {
			const tag = randomUUID().slice(0, 8);
			const attached = ['Content-Type: multipart/mixed; boundary="b"', 'MIME-Version: 1.0'];
			const folder = `Filters-${tag}`;
			await client.mailboxCreate(folder);
			const ids = [`<f1.${tag}@x>`, `<f2.${tag}@x>`];
			for (const message of [
				raw([`Message-ID: ${ids[0]}`], `Plain ${tag}`, `Jane <jane.${tag}@customer.example>`),
				raw([`Message-ID: ${ids[1]}`, ...attached], `Attached ${tag}`, peer, `c.${tag}@x.example`),
			]) {
				await client.append(folder, message);
			}
			const subjects = async (filters: Record<string, unknown>) =>
				(
					await runNode({
						node,
						credentials: credentialData(agent),
						parameters: {
							resource: 'message',
							operation: 'getMany',
							folder,
							returnAll: true,
							format: 'headers',
							filters,
						},
						items: [{ json: {} }],
					})
				).output[0].map((o) => o.json.subject);
			expect(await subjects({ from: `jane.${tag}` })).toEqual([`Plain ${tag}`]);
			expect(await subjects({ to: `c.${tag}@x.example` })).toEqual([`Attached ${tag}`]);
			if (profile === 'search-subset') {
				await expect(subjects({ messageId: ids[0] })).rejects.toThrow(
					/refused to search "Filters-.*" by Message-ID: it does not support IMAP SEARCH HEADER. Nothing was read/,
				);
				await expect(subjects({ hasAttachments: true })).rejects.toThrow(
					/by Has Attachments: it does not support IMAP SEARCH HEADER/,
				);
			} else {
				expect(await subjects({ messageId: ids[0] })).toEqual([`Plain ${tag}`]);
				expect(await subjects({ hasAttachments: true })).toEqual([`Attached ${tag}`]);
			}
		});

		it('Get, Mark, Flag, Move and Delete by Message-ID, and Folder → Get Many, as on Dovecot', async () => {
			const tag = randomUUID().slice(0, 8);
			const folder = `Change-${tag}`;
			await client.mailboxCreate(folder);
			const ids = ['a', 'b', 'c'].map((name) => `<${name}.${tag}@outside.example>`);
			for (const [k, id] of ids.entries()) {
				await client.append(folder, raw([`Message-ID: ${id}`], `Change ${k} ${tag}`));
			}
			const change = operationRunner(node, () => credentialData(agent), {
				resource: 'message',
				messageFrom: 'messageId',
				folder,
			});
			const got = await change({ operation: 'get', messageId: ids[1] });
			expect(got.output[0][0].json).toMatchObject({
				messageId: ids[1],
				subject: `Change 1 ${tag}`,
			});
			await change({ operation: 'markRead', messageId: ids[0] });
			await change({ operation: 'flag', messageId: ids[1] });
			const flags = Object.fromEntries(
				(await listMessages(agent, folder)).map((m) => [
					m.messageId,
					m.flags.filter((f) => f !== '\\Recent'),
				]),
			);
			expect(flags).toEqual({ [ids[0]]: ['\\Seen'], [ids[1]]: ['\\Flagged'], [ids[2]]: [] });
			await change({ operation: 'move', messageId: ids[0], destination: 'Spam' });
			await change({ operation: 'delete', messageId: ids[1] });
			await change({ operation: 'delete', messageId: ids[2], permanent: true });
			expect(await listMessages(agent, folder)).toEqual([]);
			expect((await listMessages(agent, 'Spam')).map((m) => m.messageId)).toContain(ids[0]);
			expect((await listMessages(agent, 'Trash')).map((m) => m.messageId)).toContain(ids[1]);
			const folders = await runNode({
				node,
				credentials: credentialData(agent),
				parameters: { resource: 'folder', operation: 'getMany', inbox: '' },
				items: [{ json: {} }],
			});
			const listed = folders.output[0].map((o) => o.json);
			expect(listed.find((f) => f.path === folder)).toMatchObject({ total: 0 });
			expect(listed.find((f) => f.path === 'Sent')).toMatchObject({ specialUse: '\\Sent' });
		});

		it('Send and Forward with Send Once: a retry sends nothing, found in the newest headers of Sent', async () => {
			const tag = randomUUID().slice(0, 8);
			await deliver(agent, raw([`Message-ID: <fwd.${tag}@outside.example>`], `Contract ${tag}`));
			const [original] = (await listMessages(agent, 'INBOX')).filter(
				(m) => m.subject === `Contract ${tag}`,
			);
			const message = operationRunner(node, () => credentialData(agent), { resource: 'message' });
			const send = () =>
				message({
					operation: 'send',
					to: peer,
					subject: `Hello ${tag}`,
					text: 'Hi',
					options: { sendOnceKey: tag },
				});
			const forward = () =>
				message({ operation: 'forward', to: peer, text: 'FYI' }, [
					{ uid: original.uid, folder: 'INBOX' },
				]);
			for (const job of [send, forward]) {
				const first = (await job()).output[0][0].json;
				expect(first).toMatchObject({ sent: true, sendOnceCheck: 'recent-headers' });
				const again = (await job()).output[0][0].json;
				expect(again).toMatchObject({
					sent: false,
					alreadySent: true,
					messageId: first.messageId,
				});
			}
			const received = (await listMessages(peer, 'INBOX')).filter((m) => m.subject?.includes(tag));
			expect(received.map((m) => m.subject).sort()).toEqual([
				`Fwd: Contract ${tag}`,
				`Hello ${tag}`,
			]);
		});

		it('the trigger emits a new message once, as on Dovecot', async () => {
			const trigger = await activateTrigger({ credentials: credentialData(agent) });
			try {
				const id = `<t.${randomUUID()}@outside.example>`;
				await deliver(agent, raw([`Message-ID: ${id}`], 'Trigger'));
				await waitFor('the run', () => trigger.items().length === 1);
				expect(trigger.items()[0].json.messageId).toBe(id);
			} finally {
				await trigger.close();
			}
		});

		it('Send and Wait: the question goes out once; asked again in the same execution, it is not sent again', async () => {
			const { subject, first, again } = await askTwice(agent, peer);
			expectAskedOnce(first, again);
			const received = (await listMessages(peer, 'INBOX')).filter((m) => m.subject === subject);
			expect(received).toHaveLength(1);
		});
	});
});
