/**
 * The sandbox's IMAP proxy (tools/sandbox/imapProxy.ts) and the two search profiles built on it:
 * its parsing on its own, then two sandboxes of this file's own, one per profile, reached by
 * imapflow (TLS verified with the sandbox CA, as every client does) and by a raw socket where
 * imapflow would hide what goes over the wire (synchronizing literals).
 */
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import tls from 'node:tls';

import { ImapFlow } from 'imapflow';

import {
	commandTokens,
	filterCapabilities,
	Framer,
	missingSearchKey,
} from '../../tools/sandbox/imapProxy';
import { resolveProfile } from '../../tools/sandbox/profiles';
import { deliver, startTemporarySandbox, type Sandbox } from '../../tools/sandbox/sandbox';

const KEYS = ['HEADER', 'BODY', 'TEXT'];
const agent = 'agent@agentmail.test';
/** A reply from a proxy and a Dovecot on loopback comes within milliseconds. */
const REPLY_TIMEOUT_MS = 10_000;

describe('parsing', () => {
	it('finds the keys a search uses, not strings that look like them', () => {
		const key = (command: string) => missingSearchKey(Buffer.from(command), KEYS);
		expect(key('a UID SEARCH HEADER Message-ID "<x@y>"\r\n')).toBe('HEADER');
		expect(key('a SEARCH OR (BODY "x") (FROM "y")\r\n')).toBe('BODY');
		expect(key('a search text hello\r\n')).toBe('TEXT');
		expect(key('a UID SEARCH SUBJECT "body" FROM text\r\n')).toBeUndefined();
		expect(key('a UID SEARCH SUBJECT {6+}\r\nheader FROM x\r\n')).toBeUndefined();
		expect(key('a UID SEARCH SUBJECT {4}\r\nabcd HEADER X {1}\r\nz\r\n')).toBe('HEADER');
		expect(key('a UID SEARCH MODSEQ "/flags/\\\\Seen" all 5 BODY x\r\n')).toBe('BODY');
		expect(key('a UID SEARCH UID 1:* SINCE 1-Jan-2026\r\n')).toBeUndefined();
		expect(commandTokens(Buffer.from('a SEARCH ("q\\"x" {2}\r\nab)\r\n'))).toEqual([
			'a',
			'SEARCH',
			null,
			null,
		]);
	});

	it('drops capabilities from both forms of the list, and never offers COMPRESS', () => {
		const keep = (capability: string) => capability !== 'ESEARCH';
		expect(
			filterCapabilities('* CAPABILITY IMAP4rev1 ESEARCH COMPRESS=DEFLATE IDLE\r\n', keep),
		).toBe('* CAPABILITY IMAP4rev1 IDLE\r\n');
		expect(filterCapabilities('a OK [CAPABILITY IMAP4rev1 ESEARCH] Logged in\r\n', keep)).toBe(
			'a OK [CAPABILITY IMAP4rev1] Logged in\r\n',
		);
	});

	it('frames lines and literals whatever the chunks', () => {
		const wire = 'a APPEND x {5}\r\nhello\r\nb NOOP\r\n';
		for (const size of [1, 3, wire.length]) {
			const lines: string[] = [];
			let data = '';
			const framer = new Framer((piece) => {
				if ('data' in piece) data += piece.data.toString();
				else lines.push(piece.line.toString());
			});
			for (let at = 0; at < wire.length; at += size) {
				framer.push(Buffer.from(wire.slice(at, at + size)));
			}
			expect(lines).toEqual(['a APPEND x {5}\r\n', '\r\n', 'b NOOP\r\n']);
			expect(data).toBe('hello');
			expect(framer.atBoundary).toBe(true);
		}
	});

	it('knows the profiles, and names them when one is wrong', () => {
		expect(resolveProfile('')).toBe('dovecot');
		expect(resolveProfile('search-ignore')).toBe('search-ignore');
		expect(() => resolveProfile('nope')).toThrow(/dovecot, search-subset, search-ignore/);
	});
});

/** A raw TLS IMAP connection that reads whole lines. */
async function rawImap(sandbox: Sandbox) {
	const socket = tls.connect({
		host: sandbox.info.imap.host,
		port: sandbox.info.imap.port,
		ca: readFileSync(sandbox.info.ca),
		servername: 'localhost',
	});
	let buffered = '';
	const waiters: Array<() => void> = [];
	socket.on('data', (chunk: Buffer) => {
		buffered += chunk.toString('latin1');
		for (const wake of waiters.splice(0)) wake();
	});
	/** Everything up to the first line matching `pattern`. */
	const until = async (pattern: RegExp): Promise<string> => {
		const deadline = Date.now() + REPLY_TIMEOUT_MS;
		for (;;) {
			const lines = buffered.split('\r\n');
			const at = lines.findIndex((line) => pattern.test(line));
			if (at >= 0) {
				buffered = lines.slice(at + 1).join('\r\n');
				return lines.slice(0, at + 1).join('\r\n');
			}
			if (Date.now() > deadline) throw new Error(`no ${pattern} in ${JSON.stringify(buffered)}`);
			await new Promise<void>((resolve) => {
				waiters.push(resolve);
				setTimeout(resolve, 100);
			});
		}
	};
	const send = (text: string) => socket.write(text);
	await until(/^\* OK/);
	const password = sandbox.info.inboxes.find((inbox) => inbox.address === agent)!.apiKey;
	send(`l LOGIN "${agent}" "${password}"\r\n`);
	await until(/^l OK/);
	send('s SELECT INBOX\r\n');
	await until(/^s OK/);
	return { send, until, close: () => socket.destroy() };
}

async function client(sandbox: Sandbox): Promise<ImapFlow> {
	const password = sandbox.info.inboxes.find((inbox) => inbox.address === agent)!.apiKey;
	const imap = new ImapFlow({
		host: sandbox.info.imap.host,
		port: sandbox.info.imap.port,
		secure: true,
		auth: { user: agent, pass: password },
		tls: { ca: readFileSync(sandbox.info.ca) },
		logger: false,
	});
	imap.on('error', () => undefined);
	await imap.connect();
	return imap;
}

const mail = (subject: string, extra = '') =>
	`From: peer@agentmail.test\r\nTo: ${agent}\r\nSubject: ${subject}\r\nMessage-ID: <${subject}@agentmail.test>\r\n${extra}\r\nBody of ${subject}.\r\n`;

describe.each(['search-subset', 'search-ignore'] as const)('the %s profile', (profile) => {
	let sandbox: Sandbox;
	let imap: ImapFlow;
	beforeAll(async () => {
		sandbox = await startTemporarySandbox(`agentmail-${profile}-`, [], profile);
		await deliver(sandbox.info, agent, mail('first'));
		await deliver(sandbox.info, agent, mail('second', 'X-Ticket: T-2\r\n'));
		imap = await client(sandbox);
		await imap.mailboxOpen('INBOX');
	});
	afterAll(async () => {
		await imap?.logout();
		await sandbox?.stop();
		if (sandbox) await rm(sandbox.dir, { recursive: true, force: true });
	});

	it('is written into sandbox.json; searches without those keys, fetches and appends pass', async () => {
		expect(sandbox.info.profile).toBe(profile);
		const all = (await imap.search({ all: true }, { uid: true })) as number[];
		expect(all).toHaveLength(2);
		expect(await imap.search({ subject: 'second' }, { uid: true })).toEqual([all[1]]);
		expect(await imap.search({ from: 'peer', subject: 'sécond' }, { uid: true })).toEqual([]);
		const fetched = await imap.fetchAll(String(all[1]), { source: true }, { uid: true });
		expect(fetched[0].source?.toString()).toContain('Body of second.');
		const appended = await imap.append('Sent', mail('kept'), ['\\Seen']);
		expect(appended && appended.uid).toEqual(expect.any(Number));
	});

	it('HEADER, BODY and TEXT searches are refused, or match every message', async () => {
		for (const query of [
			{ header: { 'x-ticket': 'T-2' } },
			{ body: 'second' },
			{ text: 'nothing' },
		]) {
			const result = await imap.search(query, { uid: true });
			if (profile === 'search-subset') expect(result).toBe(false);
			else expect(result).toHaveLength(2);
		}
		// The connection is still in step after a refusal.
		expect(await imap.search({ subject: 'first' }, { uid: true })).toHaveLength(1);
	});

	it('answers a synchronizing literal in a held search itself', async () => {
		const raw = await rawImap(sandbox);
		try {
			raw.send('a UID SEARCH SUBJECT {6}\r\n');
			await raw.until(/^\+/);
			raw.send('second\r\n');
			expect(await raw.until(/^a /)).toMatch(/^\* SEARCH \d+\r\na OK/);
			raw.send('b UID SEARCH HEADER X-Ticket {3}\r\n');
			await raw.until(/^\+/);
			raw.send('T-2\r\n');
			const answer = await raw.until(/^b /);
			if (profile === 'search-subset') expect(answer).toMatch(/^b BAD .*HEADER/);
			else expect(answer).toMatch(/^\* SEARCH \d+ \d+\r\nb OK/);
		} finally {
			raw.close();
		}
	});
});
