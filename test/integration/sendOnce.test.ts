/**
 * Send once's lookup against real Dovecot: a message sent for a key is found in Sent by its
 * derived Message-ID or by its header (a server that rewrites Message-IDs), and nothing else
 * is: not another key's message, not a header value that merely contains the hash.
 */
import type { ImapFlow } from 'imapflow';

import {
	findSent,
	SEARCH_CHUNK,
	SEND_ONCE_HEADER,
	sendOnceIdentity,
	type SendOnceIdentity,
} from '../../nodes/shared/smtp/sendOnce';
import { imapClient } from '../helpers/sandbox';

const inbox = 'agent@agentmail.test';
let client: ImapFlow;

beforeAll(async () => {
	client = await imapClient(inbox);
});

afterAll(async () => {
	await client.logout();
});

/** Puts a copy in Sent as the sandbox's SMTP server does after a send. */
async function storeSent(headers: string[], subject: string): Promise<void> {
	const raw = [
		`From: ${inbox}`,
		'To: jane@outside.example',
		`Subject: ${subject}`,
		'Date: Tue, 24 Nov 2026 10:00:00 +0000',
		...headers,
		'',
		'Hello.',
		'',
	].join('\r\n');
	await client.append('Sent', raw, ['\\Seen']);
}

/** A scope unique to this run, so earlier runs' Sent copies never match. */
const scope = `node-${Math.random().toString(36).slice(2)}`;

it('the identity is stable per inbox, scope and key, and differs when any of them does', () => {
	const a = sendOnceIdentity(inbox, 'node-1', '<m1@outside.example>');
	expect(sendOnceIdentity(inbox.toUpperCase(), 'node-1', '<m1@outside.example>')).toEqual(a);
	expect(a.messageId).toMatch(/^<once\.[0-9a-f]{40}@agentmail\.test>$/);
	expect(sendOnceIdentity(inbox, 'node-2', '<m1@outside.example>').hash).not.toBe(a.hash);
	expect(sendOnceIdentity(inbox, 'node-1', '<m2@outside.example>').hash).not.toBe(a.hash);
	expect(sendOnceIdentity('other@agentmail.test', 'node-1', '<m1@outside.example>').hash).not.toBe(
		a.hash,
	);
});

it('finds a copy by its Message-ID, or by its header when the Message-ID was rewritten', async () => {
	const byId = sendOnceIdentity(inbox, scope, 'by id');
	const byHeader = sendOnceIdentity(inbox, scope, 'by header');
	const never = sendOnceIdentity(inbox, scope, 'never sent');
	await storeSent([`Message-ID: ${byId.messageId}`], 'sent with its own Message-ID');
	await storeSent(
		[`Message-ID: <rewritten.${scope}@relay.example>`, `${SEND_ONCE_HEADER}: ${byHeader.hash}`],
		'sent, Message-ID rewritten',
	);
	const found = await findSent(client, [byId, byHeader, never]);
	expect([...found.keys()].sort()).toEqual([byId.hash, byHeader.hash].sort());
	expect(found.get(byId.hash)).toMatchObject({
		folder: 'Sent',
		messageId: byId.messageId,
		subject: 'sent with its own Message-ID',
		to: ['jane@outside.example'],
	});
	expect(found.get(byHeader.hash)?.subject).toBe('sent, Message-ID rewritten');
	expect(found.get(byHeader.hash)?.uid).toEqual(expect.any(Number));
});

it('a header value that only contains the hash does not count', async () => {
	const identity = sendOnceIdentity(inbox, scope, 'contained');
	await storeSent(
		[`Message-ID: <other.${scope}@x>`, `${SEND_ONCE_HEADER}: prefix-${identity.hash}`],
		'not the same hash',
	);
	expect((await findSent(client, [identity])).size).toBe(0);
});

it(`more identities than one search takes (${SEARCH_CHUNK}) are all looked up`, async () => {
	const identities: SendOnceIdentity[] = Array.from({ length: SEARCH_CHUNK * 2 + 3 }, (_, i) =>
		sendOnceIdentity(inbox, scope, `many ${i}`),
	);
	const sent = [identities[0], identities[SEARCH_CHUNK], identities[identities.length - 1]];
	for (const identity of sent)
		await storeSent([`Message-ID: ${identity.messageId}`], 'one of many');
	const found = await findSent(client, identities);
	expect([...found.keys()].sort()).toEqual(sent.map((i) => i.hash).sort());
});

it('looks up without marking anything read', async () => {
	const identity = sendOnceIdentity(inbox, scope, 'flags');
	const raw = [
		`From: ${inbox}`,
		`Message-ID: ${identity.messageId}`,
		'Subject: unread copy',
		'',
		'x',
		'',
	];
	await client.append('Sent', raw.join('\r\n'), []);
	await findSent(client, [identity]);
	const lock = await client.getMailboxLock('Sent');
	try {
		const uids =
			(await client.search({ header: { 'message-id': identity.messageId } }, { uid: true })) || [];
		const [copy] = await client.fetchAll(uids.join(','), { flags: true }, { uid: true });
		expect([...(copy.flags ?? [])]).not.toContain('\\Seen');
	} finally {
		lock.release();
	}
});
