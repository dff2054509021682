/**
 * Message → Get Many against the sandbox's Dovecot: the filters run as IMAP SEARCH on the
 * server, newest first, headers only or the trigger's full item, and bad input changes
 * nothing. Each test reads a folder of its own (test/helpers/mailbox.ts).
 */
import { AgentMail } from '../../nodes/AgentMail/AgentMail.node';
import { mail, seedFolder } from '../helpers/mailbox';
import { runNode } from '../helpers/nodeHarness';
import { credentialData, listMessages } from '../helpers/sandbox';

const agent = 'agent@agentmail.test';
const node = new AgentMail();

/** Three messages: an old unread invoice with a ticket header, a read flagged one with an attachment, a new unread invoice. */
async function seedThree() {
	const messages = [
		mail(1, 'Jane Doe <jane@customer.example>', 'Invoice 1', 'First invoice.', {
			headers: ['X-Ticket-ID: T-1'],
		}),
		mail(2, 'Bob <bob@supplier.example>', 'Hello', 'See the notes.', { attachment: true }),
		mail(3, 'Jane Doe <jane@customer.example>', 'Invoice 2', 'Please pay now.'),
	];
	const seeded = await seedFolder(agent, 'GetMany', [
		{ raw: messages[0].raw, date: new Date('2026-01-10T08:00:00Z') },
		{
			raw: messages[1].raw,
			flags: ['\\Seen', '\\Flagged'],
			date: new Date('2026-06-01T08:00:00Z'),
		},
		{ raw: messages[2].raw, date: new Date('2026-11-01T08:00:00Z') },
	]);
	return { ...seeded, messageIds: messages.map((m) => m.messageId) };
}

const getMany = (parameters: Record<string, unknown>, extra: { continueOnFail?: boolean } = {}) =>
	runNode({
		node,
		credentials: credentialData(agent),
		parameters: { resource: 'message', operation: 'getMany', ...parameters },
		items: [{ json: {} }],
		...extra,
	});

let seeded: Awaited<ReturnType<typeof seedThree>>;
beforeAll(async () => {
	seeded = await seedThree();
});

const uidsOf = async (parameters: Record<string, unknown>) =>
	(await getMany({ folder: seeded.folder, format: 'headers', ...parameters })).output[0].map(
		(o) => o.json.uid,
	);

it('headers only: the trigger’s header fields and flags, no body, newest first, each with uid, uidValidity, folder, messageId', async () => {
	const { output } = await getMany({ folder: seeded.folder, format: 'headers' });
	const items = output[0].map((o) => o.json);
	expect(items.map((m) => m.uid)).toEqual([...seeded.uids].reverse());
	expect(items[0]).toEqual({
		uid: seeded.uids[2],
		uidValidity: seeded.uidValidity,
		folder: seeded.folder,
		messageId: seeded.messageIds[2],
		flags: [],
		inReplyTo: null,
		references: [],
		from: { address: 'jane@customer.example', name: 'Jane Doe' },
		to: [{ address: 'agent@agentmail.test', name: 'Agent' }],
		cc: [],
		replyTo: [],
		subject: 'Invoice 2',
		date: '2026-11-24T10:00:00.000Z',
		headers: expect.objectContaining({ subject: 'Invoice 2', 'message-id': seeded.messageIds[2] }),
		size: expect.any(Number),
		warnings: [],
	});
	// No body fields: a header block cannot fill them.
	for (const field of ['text', 'html', 'replyText', 'attachments'])
		expect(items[0]).not.toHaveProperty(field);
	expect(items[1].flags).toEqual(expect.arrayContaining(['\\Seen', '\\Flagged']));
	expect(output[0].every((o) => o.binary === undefined)).toBe(true);
	expect(output[0].map((o) => o.pairedItem)).toEqual([{ item: 0 }, { item: 0 }, { item: 0 }]);
});

it('full: the trigger’s item plus uidValidity; attachments listed, as binary only when asked, raw .eml when asked', async () => {
	const plain = (await getMany({ folder: seeded.folder, limit: 2 })).output[0];
	expect(plain.map((o) => o.json.uid)).toEqual([seeded.uids[2], seeded.uids[1]]);
	expect(plain[0].json).toMatchObject({
		uid: seeded.uids[2],
		uidValidity: seeded.uidValidity,
		folder: seeded.folder,
		messageId: seeded.messageIds[2],
		subject: 'Invoice 2',
		text: 'Please pay now.\n',
		replyText: 'Please pay now.',
		attachments: [],
		headers: expect.objectContaining({ subject: 'Invoice 2' }),
		warnings: [],
	});
	expect(plain[1].json.attachments).toEqual([
		expect.objectContaining({ filename: 'notes.txt', binaryProperty: null }),
	]);
	expect(plain.every((o) => o.binary === undefined)).toBe(true);

	const withFiles = (
		await getMany({
			folder: seeded.folder,
			limit: 2,
			readOptions: { downloadAttachments: true, includeRaw: true },
		})
	).output[0];
	expect(Object.keys(withFiles[1].binary ?? {}).sort()).toEqual(['attachment_0', 'raw']);
	expect(Buffer.from(withFiles[1].binary!.attachment_0.data, 'base64').toString()).toBe(
		'attached notes',
	);
	expect(withFiles[0].binary?.raw).toBeDefined();
});

it('reading changes no flag: unread mail stays unread', async () => {
	await getMany({ folder: seeded.folder, returnAll: true });
	const flags = (await listMessages(agent, seeded.folder)).map((m) =>
		m.flags.filter((flag) => flag !== '\\Recent'),
	);
	expect(flags).toEqual([[], ['\\Flagged', '\\Seen'], []]);
});

describe('filters run on the server', () => {
	const [oldest, middle, newest] = [0, 1, 2];
	const uid = (k: number) => seeded.uids[k];

	it.each([
		['unread', { readStatus: 'unread' }, [newest, oldest]],
		['read', { readStatus: 'read' }, [middle]],
		['flagged', { flagged: 'flagged' }, [middle]],
		['not flagged', { flagged: 'unflagged' }, [newest, oldest]],
		['from', { from: 'jane@customer' }, [newest, oldest]],
		['to', { to: 'agent@agentmail.test' }, [newest, middle, oldest]],
		['subject contains', { subject: 'invoice' }, [newest, oldest]],
		['body contains', { text: 'pay now' }, [newest]],
		['received after', { since: '2026-05-01T00:00:00Z' }, [newest, middle]],
		['received before', { before: '2026-05-01T00:00:00Z' }, [oldest]],
		['has attachments', { hasAttachments: true }, [middle]],
		['custom header', { headerName: 'X-Ticket-ID', headerValue: 'T-1' }, [oldest]],
		['custom header present', { headerName: 'x-ticket-id' }, [oldest]],
		[
			'several at once',
			{ readStatus: 'unread', subject: 'Invoice', since: '2026-05-01' },
			[newest],
		],
	])('%s', async (_name, filters, expected) => {
		expect(await uidsOf({ filters })).toEqual(expected.map(uid));
	});

	it('a date without an offset is read in the workflow’s time zone', async () => {
		// The middle message arrived at 08:00Z, 10:00 in Berlin (summer time).
		const since = {
			filters: { since: '2026-06-01T09:30:00' },
			format: 'headers',
			folder: seeded.folder,
		};
		const uidsIn = async (timeZone: string) =>
			(
				await runNode({
					node,
					credentials: credentialData(agent),
					parameters: { resource: 'message', operation: 'getMany', ...since },
					items: [{ json: {} }],
					timeZone,
				})
			).output[0].map((o) => o.json.uid);
		expect(await uidsIn('Europe/Berlin')).toEqual([uid(newest), uid(middle)]);
		expect(await uidsIn('UTC')).toEqual([uid(newest)]);
	});

	it('Message-ID', async () => {
		expect(await uidsOf({ filters: { messageId: seeded.messageIds[oldest] } })).toEqual([
			uid(oldest),
		]);
	});

	it('Limit takes the newest; Return All takes every match', async () => {
		expect(await uidsOf({ limit: 1 })).toEqual([uid(newest)]);
		expect(await uidsOf({ limit: 1, returnAll: true })).toEqual([newest, middle, oldest].map(uid));
	});
});

describe('bad input: a clear error, nothing changed', () => {
	it('INBOX in any case is INBOX; another folder name in the wrong case names the right one', async () => {
		expect(
			(await getMany({ folder: 'inbox', format: 'headers', limit: 1 })).output[0],
		).toBeDefined();
		await expect(getMany({ folder: seeded.folder.toLowerCase() })).rejects.toThrow(
			new RegExp(
				`The folder "${seeded.folder.toLowerCase()}" does not exist in agent@agentmail\\.test\\. Did you mean "${seeded.folder}"\\? .*Choose one of INBOX`,
			),
		);
	});

	it('a folder that does not exist', async () => {
		const { output } = await getMany({ folder: 'Archive/2019' }, { continueOnFail: true });
		expect(output[0]).toEqual([
			{
				json: { error: expect.stringMatching(/The folder "Archive\/2019" does not exist/) },
				pairedItem: { item: 0 },
			},
		]);
	});

	it('a date that does not parse', async () => {
		await expect(
			getMany({ folder: seeded.folder, filters: { since: 'last tuesday' } }),
		).rejects.toThrow(/Received After "last tuesday" is not a date: enter one such as 2026-11-24/);
	});

	it('a header name IMAP cannot carry', async () => {
		await expect(
			getMany({ folder: seeded.folder, filters: { headerName: 'X-Ticket: 1' } }),
		).rejects.toThrow(/Header Name "X-Ticket: 1" is not a header name/);
	});
});
