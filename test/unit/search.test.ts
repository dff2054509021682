/** Message → Get Many's filters as one IMAP SEARCH (nodes/shared/imap/search.ts), and its limits. */
import { InputError } from '../../nodes/shared/errors';
import type { InboxClient } from '../../nodes/shared/imap/inbox';
import { checkReturnAll, RETURN_ALL_CAP, searchFolder } from '../../nodes/shared/imap/messages';
import { buildSearch, parseFilterDate } from '../../nodes/shared/imap/search';

it('no filter searches everything', () => {
	expect(buildSearch({})).toEqual({});
});

it('maps every filter to its SEARCH key', () => {
	expect(
		buildSearch({
			readStatus: 'unread',
			flagged: 'unflagged',
			from: ' jane@example.com ',
			to: 'agent@agentmail.to',
			subject: 'Invoice',
			text: 'pay now',
			since: '2026-01-01',
			before: new Date('2026-02-01T00:00:00Z'),
			hasAttachments: true,
			messageId: '<a@b>',
			headerName: 'X-Ticket-ID',
			headerValue: 'T-1',
		}),
	).toEqual({
		seen: false,
		flagged: false,
		from: 'jane@example.com',
		to: 'agent@agentmail.to',
		subject: 'Invoice',
		body: 'pay now',
		since: new Date('2026-01-01'),
		before: new Date('2026-02-01T00:00:00Z'),
		header: { 'content-type': 'multipart/mixed', 'message-id': '<a@b>', 'x-ticket-id': 'T-1' },
	});
	expect(buildSearch({ readStatus: 'read', flagged: 'flagged' })).toEqual({
		seen: true,
		flagged: true,
	});
});

it.each([
	[{ since: 'soon' }, /Received After "soon" is not a date/],
	[{ before: '2026-13-45' }, /Received Before "2026-13-45" is not a date/],
	[{ since: '2026-02-01', before: '2026-01-01' }, /is not earlier than Received Before/],
	[{ headerName: 'Bad Name' }, /Header Name "Bad Name" is not a header name/],
	[{ headerValue: 'x' }, /Header Value is set without a Header Name/],
	[{ subject: 'a\r\nb' }, /Subject Contains contains a line break/],
])('refuses %j with a message saying what to enter', (filters, message) => {
	expect(() => buildSearch(filters)).toThrow(InputError);
	expect(() => buildSearch(filters)).toThrow(message);
});

it('Return All stops at its cap, with what to do instead', () => {
	expect(() => checkReturnAll(RETURN_ALL_CAP.full, 'INBOX', 'full')).not.toThrow();
	expect(() => checkReturnAll(RETURN_ALL_CAP.full + 1, 'INBOX', 'full')).toThrow(
		/matched 1001 messages in "INBOX", more than the 1000 Return All gives: narrow the filters .* or choose Output "Headers Only" \(up to 10000\)/,
	);
	expect(() => checkReturnAll(RETURN_ALL_CAP.headers + 1, 'INBOX', 'headers')).toThrow(
		/more than the 10000 Return All gives/,
	);
});

/** An inbox whose server answers SEARCH with `search` and FETCH of headers with `headers`. */
function fakeInbox(
	search: (query: Record<string, unknown>) => number[] | false,
	headers: Record<number, string> = {},
): InboxClient {
	return {
		address: 'agent@agentmail.to',
		select: async () => ({ path: 'INBOX', uidValidity: '1', exists: 3, writable: false }),
		// imapflow answers a NO or BAD to SEARCH with false.
		imap: {
			search: async (query: Record<string, unknown>) => search(query),
			fetchAll: async (range: string) =>
				range
					.split(',')
					.map(Number)
					.map((uid) => ({ uid, headers: Buffer.from(headers[uid] ?? '') })),
		},
	} as unknown as InboxClient;
}

it('a search the server refuses fails, naming the filter it refused, instead of finding nothing', async () => {
	const refusesHeader = fakeInbox((query) => ('header' in query ? false : [1]));
	await expect(
		searchFolder(refusesHeader, 'INBOX', { subject: 'a', headerName: 'X-A' }),
	).rejects.toThrow(
		/agent@agentmail\.to's IMAP server refused to search "INBOX" by Header Name "x-a": it does not support IMAP SEARCH HEADER\. Nothing was read\. Remove Header Name "x-a"/,
	);
	const refusesBody = fakeInbox((query) => ('body' in query ? false : [1]));
	await expect(searchFolder(refusesBody, 'INBOX', { text: 'pay' })).rejects.toThrow(
		/by Body Contains: it does not support IMAP SEARCH BODY\. .*Output: Full/,
	);
	// Each filter alone is searched; only the whole is refused.
	const refusesTogether = fakeInbox((query) => (Object.keys(query).length > 1 ? false : [1]));
	await expect(searchFolder(refusesTogether, 'INBOX', { from: 'a', to: 'b' })).rejects.toThrow(
		/agent@agentmail\.to refused the search in "INBOX": its server does not support one of these filters/,
	);
});

it('messages a server returned that do not match the header filters are left out', async () => {
	const headers = {
		1: 'Subject: Invoice 7\r\nFrom: Jane <jane@example.com>\r\n\r\n',
		2: 'Subject: =?utf-8?q?Re=3A_invoice?=\r\nFrom: JANE@EXAMPLE.COM\r\n\r\n',
		3: 'Subject: Lunch\r\nFrom: jane@example.com\r\n\r\n',
		4: 'Subject: Invoice\r\nFrom: bob@example.com\r\n\r\n',
	};
	// A server that ignores the keys: every message.
	const sloppy = fakeInbox(() => [1, 2, 3, 4], headers);
	const { uids } = await searchFolder(sloppy, 'INBOX', { subject: 'invoice', from: 'jane@' });
	expect(uids).toEqual([2, 1]);
	const withHeader = { ...headers, 5: 'X-Ticket: T-1\r\n\r\n' };
	const present = await searchFolder(
		fakeInbox(() => [3, 5], withHeader),
		'INBOX',
		{
			headerName: 'X-Ticket',
		},
	);
	expect(present.uids).toEqual([5]);
});

describe('dates without an offset are read in the workflow’s time zone', () => {
	it.each([
		['2026-01-15T10:00:00', 'Europe/Berlin', '2026-01-15T09:00:00.000Z'],
		['2026-07-15T10:00:00', 'Europe/Berlin', '2026-07-15T08:00:00.000Z'],
		['2026-07-15', 'America/New_York', '2026-07-15T04:00:00.000Z'],
		['2026-07-15 23:30', 'Asia/Tokyo', '2026-07-15T14:30:00.000Z'],
		['2026-07-15T10:00:00', 'UTC', '2026-07-15T10:00:00.000Z'],
		// An offset or Z is taken as given, whatever the zone.
		['2026-07-15T10:00:00Z', 'Europe/Berlin', '2026-07-15T10:00:00.000Z'],
		['2026-07-15T10:00:00+05:30', 'Europe/Berlin', '2026-07-15T04:30:00.000Z'],
	])('%s in %s is %s', (value, zone, iso) => {
		expect(parseFilterDate('Received After', value, zone)?.toISOString()).toBe(iso);
	});

	it('a day that does not exist, or an unknown zone, is refused', () => {
		expect(() => parseFilterDate('Received After', '2026-02-31', 'UTC')).toThrow(
			/Received After "2026-02-31" is not a date/,
		);
		expect(() => parseFilterDate('Received After', '2026-02-01', 'Mars/Olympus')).toThrow(
			/The time zone "Mars\/Olympus" is not known/,
		);
	});
});
