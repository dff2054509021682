/**
 * The sandbox must keep AgentMail's IMAP/SMTP rules, or every later test that trusts it proves
 * nothing. Clients: raw sockets where a library would smooth things over, imapflow and
 * nodemailer elsewhere.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';

import { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';

import {
	apiKey,
	imapClient,
	listMessages,
	sandboxInfo,
	smtpEvents,
	smtpTransport,
} from '../helpers/sandbox';
import { portAnswers } from '../../tools/sandbox/ports';
import {
	deliver,
	freePorts,
	MAX_MESSAGE_BYTES,
	MAX_RECIPIENTS,
	startSandbox,
	startTemporarySandbox,
	type SandboxInfo,
} from '../../tools/sandbox/sandbox';
import { extraInboxAddresses } from '../../tools/sandbox/inboxes';

/** A reply from the sandbox's own servers on loopback comes within milliseconds. */
const REPLY_TIMEOUT_MS = 15_000;
/** How long a plaintext client waits for an IMAP greeting that must never come. */
const PLAINTEXT_WAIT_MS = 2_000;
/** Dovecot closes a connection right after LOGOUT; the count follows within this time. */
const CONNECTION_COUNT_SETTLE_MS = 5_000;
/** Sessions the many-inboxes test holds at once: more than Dovecot's default cap of 100. */
const MANY_SESSIONS = 250;
/** Logins it starts at a time (a burst of 250 TLS handshakes at once is not what it tests). */
const LOGINS_AT_ONCE = 25;
/** Big-message tests move 10 MB twice through TLS. */
const BIG_MESSAGE_TEST_TIMEOUT_MS = 120_000;

const AGENT = 'agent@agentmail.test';
const PEER = 'peer@agentmail.test';
const OTHER = 'other@agentmail.test';
const TEAM = 'team@agentmail.test';
const WRONG_KEY = `am_${'0'.repeat(32)}`;

/** A unique marker per test, so parallel test files sharing the sandbox never mix up mail. */
function tag(): string {
	return randomBytes(6).toString('hex');
}

function rawMessage(from: string, to: string, subject: string, extraHeaders = ''): string {
	return (
		`From: ${from}\r\nTo: ${to}\r\nSubject: ${subject}\r\n` +
		`Message-ID: <${subject.replace(/\s+/g, '-')}@sandbox.test>\r\n${extraHeaders}` +
		`Date: ${new Date().toUTCString()}\r\nMIME-Version: 1.0\r\n` +
		`Content-Type: text/plain; charset=utf-8\r\n\r\nHello from ${from}.\r\n`
	);
}

/** A message of exactly `size` bytes (CRLF line ends, lines of at most 1000 bytes). */
function messageOfSize(size: number, subject: string): Buffer {
	const header = `From: ${AGENT}\r\nTo: big@outside.example\r\nSubject: ${subject}\r\n\r\n`;
	const lines: string[] = [header];
	let remaining = size - header.length;
	while (remaining > 0) {
		let length = Math.min(1000, remaining);
		// A 1-byte tail cannot hold a CRLF: shorten this line by one instead.
		if (remaining - length === 1) length -= 1;
		lines.push('x'.repeat(length - 2) + '\r\n');
		remaining -= length;
	}
	const message = Buffer.from(lines.join(''));
	expect(message.length).toBe(size);
	return message;
}

interface Reply {
	code: number;
	/** All lines of the reply, joined with \n. */
	text: string;
}

/** A bare SMTP client on a raw socket: nothing is upgraded or retried behind the test's back. */
class RawSmtp {
	private buffer = '';
	private lines: string[] = [];
	private readonly replies: Reply[] = [];
	private readonly waiting: Array<(reply: Reply) => void> = [];
	private readonly onData = (chunk: Buffer) => this.receive(chunk);
	closed = false;

	private constructor(private socket: net.Socket) {
		this.listen();
	}

	/** Connects to the sandbox SMTP port (implicit TLS or plain for STARTTLS) and reads the greeting. */
	static async open(info: SandboxInfo, mode: 'implicit' | 'starttls'): Promise<RawSmtp> {
		const socket =
			mode === 'implicit'
				? tls.connect({
						host: info.smtp.host,
						port: info.smtp.implicitTlsPort,
						ca: readFileSync(info.ca),
					})
				: net.connect({ host: info.smtp.host, port: info.smtp.startTlsPort });
		const smtp = new RawSmtp(socket);
		const greeting = await smtp.reply();
		expect(greeting.code).toBe(220);
		return smtp;
	}

	private listen(): void {
		this.socket.on('data', this.onData);
		this.socket.on('close', () => (this.closed = true));
		this.socket.on('error', () => (this.closed = true));
	}

	private receive(chunk: Buffer): void {
		this.buffer += chunk.toString('latin1');
		let end: number;
		while ((end = this.buffer.indexOf('\r\n')) !== -1) {
			const line = this.buffer.slice(0, end);
			this.buffer = this.buffer.slice(end + 2);
			this.lines.push(line);
			// "250-..." continues a reply, "250 ..." ends it.
			if (/^\d{3}(?: |$)/.test(line)) {
				const reply = { code: Number(line.slice(0, 3)), text: this.lines.join('\n') };
				this.lines = [];
				const waiter = this.waiting.shift();
				if (waiter) waiter(reply);
				else this.replies.push(reply);
			}
		}
	}

	async reply(): Promise<Reply> {
		const ready = this.replies.shift();
		if (ready) return ready;
		return await new Promise<Reply>((resolve, reject) => {
			const timer = setTimeout(() => reject(new Error('no SMTP reply in time')), REPLY_TIMEOUT_MS);
			this.waiting.push((reply) => {
				clearTimeout(timer);
				resolve(reply);
			});
		});
	}

	async command(line: string): Promise<Reply> {
		this.socket.write(line + '\r\n');
		return await this.reply();
	}

	write(data: Buffer | string): void {
		this.socket.write(data);
	}

	async startTls(ca: Buffer): Promise<void> {
		expect((await this.command('STARTTLS')).code).toBe(220);
		this.socket.off('data', this.onData);
		const secure = tls.connect({ socket: this.socket, ca, servername: 'localhost' });
		await new Promise<void>((resolve, reject) => {
			secure.once('secureConnect', resolve);
			secure.once('error', reject);
		});
		this.socket = secure;
		this.listen();
	}

	async authPlain(user: string, password: string): Promise<Reply> {
		return await this.command(
			`AUTH PLAIN ${Buffer.from(`\0${user}\0${password}`).toString('base64')}`,
		);
	}

	close(): void {
		this.socket.destroy();
	}
}

/** Opens a raw SMTP session, already past EHLO and (unless told otherwise) AUTH. */
async function rawSession(
	mode: 'implicit' | 'starttls' = 'implicit',
	user: string | null = AGENT,
): Promise<RawSmtp> {
	const info = sandboxInfo();
	const smtp = await RawSmtp.open(info, mode);
	expect((await smtp.command('EHLO client.test')).code).toBe(250);
	if (mode === 'starttls') {
		await smtp.startTls(readFileSync(info.ca));
		expect((await smtp.command('EHLO client.test')).code).toBe(250);
	}
	if (user) expect((await smtp.authPlain(user, apiKey(user))).code).toBe(235);
	return smtp;
}

/** Sends DATA with a message and returns the final reply. */
async function sendData(smtp: RawSmtp, message: Buffer | string): Promise<Reply> {
	expect((await smtp.command('DATA')).code).toBe(354);
	smtp.write(message);
	smtp.write('.\r\n');
	return await smtp.reply();
}

interface OutboxEntry {
	eml: string;
	envelope: { mailFrom: string; rcptTo: string[] };
}

/** Outbox entries whose .eml contains `marker`. */
function outboxEntries(marker: string): OutboxEntry[] {
	const outbox = sandboxInfo().outbox;
	return readdirSync(outbox)
		.filter((name) => name.endsWith('.json'))
		.map((name) => ({
			eml: readFileSync(path.join(outbox, name.replace(/\.json$/, '.eml')), 'latin1'),
			envelope: JSON.parse(
				readFileSync(path.join(outbox, name), 'utf8'),
			) as OutboxEntry['envelope'],
		}))
		.filter((entry) => entry.eml.includes(marker));
}

async function bySubject(address: string, folder: string, subject: string) {
	return (await listMessages(address, folder)).filter((message) => message.subject === subject);
}

describe('sandbox.json', () => {
	it('has exactly the documented keys, four inboxes with am_ keys (team@ shares agent@’s) and absolute paths', () => {
		const info = JSON.parse(
			readFileSync(process.env.AGENTMAIL_SANDBOX_JSON as string, 'utf8'),
		) as SandboxInfo;
		expect(Object.keys(info).sort()).toEqual([
			'ca',
			'imap',
			'inboxes',
			'lmtp',
			'outbox',
			'profile',
			'smtp',
		]);
		expect(info.profile).toBe(process.env.AGENTMAIL_SANDBOX_PROFILE || 'dovecot');
		expect(Object.keys(info.imap).sort()).toEqual(['host', 'port']);
		expect(Object.keys(info.smtp).sort()).toEqual(['host', 'implicitTlsPort', 'startTlsPort']);
		expect(Object.keys(info.lmtp).sort()).toEqual(['host', 'port']);
		expect([info.imap.host, info.smtp.host, info.lmtp.host]).toEqual([
			'127.0.0.1',
			'127.0.0.1',
			'127.0.0.1',
		]);
		expect(info.inboxes.map((inbox) => inbox.address)).toEqual([AGENT, PEER, OTHER, TEAM]);
		for (const inbox of info.inboxes) {
			expect(Object.keys(inbox).sort()).toEqual(['address', 'apiKey']);
			expect(inbox.apiKey).toMatch(/^am_[0-9a-f]{32}$/);
		}
		expect(new Set(info.inboxes.map((inbox) => inbox.apiKey)).size).toBe(3);
		expect(info.inboxes[3].apiKey).toBe(info.inboxes[0].apiKey);
		expect(path.isAbsolute(info.ca) && existsSync(info.ca)).toBe(true);
		expect(path.isAbsolute(info.outbox) && existsSync(info.outbox)).toBe(true);
	});
});

describe('IMAP', () => {
	it('logs in over TLS with the API key and offers IDLE', async () => {
		const client = await imapClient(AGENT);
		try {
			expect(client.authenticated).toBeTruthy();
			expect(client.capabilities.has('IDLE')).toBe(true);
		} finally {
			await client.logout();
		}
	});

	it("refuses a wrong API key and another inbox's key", async () => {
		await expect(imapClient(AGENT, WRONG_KEY)).rejects.toMatchObject({
			authenticationFailed: true,
		});
		await expect(imapClient(AGENT, apiKey(PEER))).rejects.toMatchObject({
			authenticationFailed: true,
		});
	});

	it('presents a certificate the sandbox CA verifies for localhost and 127.0.0.1', async () => {
		const info = sandboxInfo();
		for (const servername of ['localhost', undefined]) {
			const socket = tls.connect({
				host: info.imap.host,
				port: info.imap.port,
				ca: readFileSync(info.ca),
				servername,
			});
			await new Promise<void>((resolve, reject) => {
				socket.once('secureConnect', resolve);
				socket.once('error', reject);
			});
			expect(socket.authorized).toBe(true);
			socket.destroy();
		}
	});

	it('cannot be used in plaintext', async () => {
		const info = sandboxInfo();
		const socket = net.connect({ host: info.imap.host, port: info.imap.port });
		let received = '';
		socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
		socket.on('error', () => undefined);
		socket.write('a1 CAPABILITY\r\na2 LOGIN agent@agentmail.test x\r\n');
		const closed = await new Promise<boolean>((resolve) => {
			socket.once('close', () => resolve(true));
			setTimeout(() => resolve(false), PLAINTEXT_WAIT_MS);
		});
		socket.destroy();
		expect(received).not.toMatch(/\* OK|a1 |a2 /);
		expect(closed).toBe(true);

		const plain = new ImapFlow({
			host: info.imap.host,
			port: info.imap.port,
			secure: false,
			doSTARTTLS: false,
			auth: { user: AGENT, pass: apiKey(AGENT) },
			logger: false,
			greetingTimeout: PLAINTEXT_WAIT_MS,
		});
		plain.on('error', () => undefined);
		await expect(plain.connect()).rejects.toThrow();
	});

	it('lists INBOX, Sent, Trash, Spam and Drafts with their special-use flags, all subscribed', async () => {
		const client = await imapClient(PEER);
		try {
			const folders = await client.list();
			const byPath = Object.fromEntries(folders.map((folder) => [folder.path, folder]));
			expect(Object.keys(byPath).sort()).toEqual(['Drafts', 'INBOX', 'Sent', 'Spam', 'Trash']);
			expect(byPath.Sent.specialUse).toBe('\\Sent');
			expect(byPath.Trash.specialUse).toBe('\\Trash');
			expect(byPath.Spam.specialUse).toBe('\\Junk');
			expect(byPath.Drafts.specialUse).toBe('\\Drafts');
			for (const folder of folders) {
				expect(folder.subscribed).toBe(true);
				// These come from the server's SPECIAL-USE flags, not from imapflow guessing by name.
				if (folder.path !== 'INBOX') expect(folder.specialUseSource).toBe('extension');
			}
		} finally {
			await client.logout();
		}
	});

	it('keeps Drafts empty: APPEND, COPY and MOVE into it fail, and it cannot be deleted', async () => {
		const subject = `draft attempt ${tag()}`;
		await deliver(sandboxInfo(), OTHER, rawMessage('someone@outside.example', OTHER, subject));
		const client = await imapClient(OTHER);
		try {
			await expect(
				client.append('Drafts', rawMessage(OTHER, PEER, subject), ['\\Draft']),
			).rejects.toThrow();
			const lock = await client.getMailboxLock('INBOX');
			try {
				const uids = (await client.search({ subject }, { uid: true })) || [];
				expect(uids.length).toBe(1);
				expect(await client.messageCopy(uids, 'Drafts', { uid: true }).catch(() => false)).toBe(
					false,
				);
				expect(await client.messageMove(uids, 'Drafts', { uid: true }).catch(() => false)).toBe(
					false,
				);
			} finally {
				lock.release();
			}
			await expect(client.mailboxDelete('Drafts')).rejects.toThrow();
			const status = await client.status('Drafts', { messages: true });
			expect(status && status.messages).toBe(0);
		} finally {
			await client.logout();
		}
		expect(await listMessages(OTHER, 'Drafts')).toEqual([]);
	});

	it('receives mail delivered over LMTP with the exported deliver()', async () => {
		const subject = `lmtp delivery ${tag()}`;
		await deliver(sandboxInfo(), PEER, rawMessage('friend@outside.example', PEER, subject));
		const found = await bySubject(PEER, 'INBOX', subject);
		expect(found).toHaveLength(1);
		expect(found[0].from).toEqual(['friend@outside.example']);
		expect(found[0].flags).not.toContain('\\Seen');
		await expect(
			deliver(
				sandboxInfo(),
				'nobody@agentmail.test',
				rawMessage('a@outside.example', PEER, subject),
			),
		).rejects.toThrow(/not a sandbox inbox/);
	});
});

describe('SMTP', () => {
	it('advertises STARTTLS and SIZE on 587, and answers AUTH before STARTTLS with 538', async () => {
		const smtp = await RawSmtp.open(sandboxInfo(), 'starttls');
		try {
			const ehlo = await smtp.command('EHLO client.test');
			expect(ehlo.code).toBe(250);
			expect(ehlo.text).toMatch(/^250[- ]STARTTLS$/m);
			expect(ehlo.text).toMatch(new RegExp(`^250[- ]SIZE ${MAX_MESSAGE_BYTES}$`, 'm'));
			const auth = await smtp.authPlain(AGENT, apiKey(AGENT));
			expect(auth.code).toBe(538);
			expect(auth.text).toMatch(/Must issue a STARTTLS command first/);
			// After the upgrade the same credentials work.
			await smtp.startTls(readFileSync(sandboxInfo().ca));
			expect((await smtp.command('EHLO client.test')).code).toBe(250);
			expect((await smtp.authPlain(AGENT, apiKey(AGENT))).code).toBe(235);
		} finally {
			smtp.close();
		}
	});

	it('refuses MAIL before AUTH with 530', async () => {
		const smtp = await rawSession('implicit', null);
		try {
			expect((await smtp.command(`MAIL FROM:<${AGENT}>`)).code).toBe(530);
		} finally {
			smtp.close();
		}
	});

	it('accepts AUTH LOGIN, refuses a wrong key with 535 5.7.8 and logs no secret', async () => {
		const smtp = await rawSession('implicit', null);
		try {
			const wrong = await smtp.authPlain(AGENT, WRONG_KEY);
			expect(wrong.code).toBe(535);
			expect(wrong.text).toMatch(/^535 5\.7\.8 Authentication failed$/);
			expect((await smtp.command('AUTH LOGIN')).code).toBe(334);
			expect((await smtp.command(Buffer.from(AGENT).toString('base64'))).code).toBe(334);
			expect((await smtp.command(Buffer.from(apiKey(AGENT)).toString('base64'))).code).toBe(235);
		} finally {
			smtp.close();
		}
		for (const mode of ['implicit', 'starttls'] as const) {
			await expect(smtpTransport(AGENT, mode, WRONG_KEY).verify()).rejects.toMatchObject({
				code: 'EAUTH',
				responseCode: 535,
			});
		}
		const failures = smtpEvents().filter(
			(event) => event.event === 'auth-failed' && event.user === AGENT,
		);
		expect(failures.length).toBeGreaterThanOrEqual(3);
		expect(failures.every((event) => event.code === 535)).toBe(true);
		const dir = path.dirname(process.env.AGENTMAIL_SANDBOX_JSON as string);
		const logs = [path.join(dir, 'smtp-events.jsonl'), path.join(dir, 'dovecot', 'dovecot.log')]
			.map((file) => readFileSync(file, 'utf8'))
			.join('\n');
		for (const inbox of sandboxInfo().inboxes) expect(logs).not.toContain(inbox.apiKey);
		expect(logs).not.toContain(WRONG_KEY);
	});

	it(`accepts ${MAX_RECIPIENTS} recipients and refuses the next one with 452 4.5.3`, async () => {
		const marker = tag();
		const smtp = await rawSession();
		try {
			expect((await smtp.command(`MAIL FROM:<${AGENT}>`)).code).toBe(250);
			for (let i = 1; i <= MAX_RECIPIENTS; i++) {
				expect((await smtp.command(`RCPT TO:<r${i}-${marker}@outside.example>`)).code).toBe(250);
			}
			// The same address again replaces itself and is no 51st recipient.
			expect((await smtp.command(`RCPT TO:<r1-${marker}@outside.example>`)).code).toBe(250);
			const refused = await smtp.command(`RCPT TO:<r51-${marker}@outside.example>`);
			expect(refused.code).toBe(452);
			expect(refused.text).toBe('452 4.5.3 Too many recipients');
			const sent = await sendData(
				smtp,
				rawMessage(AGENT, `r1-${marker}@outside.example`, `fifty ${marker}`),
			);
			expect(sent.code).toBe(250);
		} finally {
			smtp.close();
		}
		const [entry] = outboxEntries(`fifty ${marker}`);
		expect(entry.envelope.rcptTo).toHaveLength(MAX_RECIPIENTS);
		expect(entry.envelope.rcptTo).not.toContain(`r51-${marker}@outside.example`);
		expect(smtpEvents().some((event) => event.event === 'rcpt-refused' && event.code === 452)).toBe(
			true,
		);
	});

	it('refuses a declared SIZE= over 10 MB with 552 and accepts exactly 10 MB', async () => {
		const smtp = await rawSession();
		try {
			const tooBig = await smtp.command(`MAIL FROM:<${AGENT}> SIZE=${MAX_MESSAGE_BYTES + 1}`);
			expect(tooBig.code).toBe(552);
			expect((await smtp.command(`MAIL FROM:<${AGENT}> SIZE=${MAX_MESSAGE_BYTES}`)).code).toBe(250);
		} finally {
			smtp.close();
		}
	});

	it(
		'refuses 10 MB + 1 byte with 552 when no SIZE= was declared, and accepts exactly 10 MB',
		async () => {
			const marker = tag();
			const smtp = await rawSession('starttls');
			try {
				expect((await smtp.command(`MAIL FROM:<${AGENT}>`)).code).toBe(250);
				expect((await smtp.command('RCPT TO:<big@outside.example>')).code).toBe(250);
				const refused = await sendData(
					smtp,
					messageOfSize(MAX_MESSAGE_BYTES + 1, `too big ${marker}`),
				);
				expect(refused.code).toBe(552);
				expect((await smtp.command(`MAIL FROM:<${AGENT}>`)).code).toBe(250);
				expect((await smtp.command('RCPT TO:<big@outside.example>')).code).toBe(250);
				const accepted = await sendData(
					smtp,
					messageOfSize(MAX_MESSAGE_BYTES, `just fits ${marker}`),
				);
				expect(accepted.code).toBe(250);
			} finally {
				smtp.close();
			}
			expect(outboxEntries(`too big ${marker}`)).toHaveLength(0);
			expect(outboxEntries(`just fits ${marker}`)).toHaveLength(1);
			expect(
				smtpEvents().some(
					(event) =>
						event.event === 'data-refused' &&
						event.code === 552 &&
						event.size === MAX_MESSAGE_BYTES + 1,
				),
			).toBe(true);
		},
		BIG_MESSAGE_TEST_TIMEOUT_MS,
	);

	it('refuses a foreign sender in the envelope and in the From header with 550 5.7.1', async () => {
		const subject = `foreign from ${tag()}`;
		const transport = smtpTransport(AGENT);
		try {
			await expect(
				transport.sendMail({ from: PEER, to: 'x@outside.example', subject, text: 'envelope' }),
			).rejects.toMatchObject({ responseCode: 550, response: '550 5.7.1 Sender not authorized' });
			await expect(
				transport.sendMail({
					envelope: { from: AGENT, to: ['x@outside.example'] },
					from: PEER,
					to: 'x@outside.example',
					subject,
					text: 'header',
				}),
			).rejects.toMatchObject({ responseCode: 550, response: '550 5.7.1 Sender not authorized' });
			await expect(
				transport.sendMail({
					envelope: { from: AGENT, to: ['x@outside.example'] },
					from: `"Agent" <${AGENT}>, ${PEER}`,
					to: 'x@outside.example',
					subject,
					text: 'two authors',
				}),
			).rejects.toMatchObject({ responseCode: 550 });
		} finally {
			transport.close();
		}
		expect(outboxEntries(subject)).toHaveLength(0);
		expect(await bySubject(AGENT, 'Sent', subject)).toHaveLength(0);
	});

	it('delivers an accepted message to the inbox, to Sent (\\Seen) and to the outbox', async () => {
		const subject = `accepted ${tag()}`;
		const transport = smtpTransport(AGENT);
		try {
			const info = await transport.sendMail({
				from: { name: 'The Agent', address: AGENT },
				to: [PEER, 'someone@outside.example'],
				subject,
				text: 'Hello',
			});
			expect(info.accepted.sort()).toEqual([PEER, 'someone@outside.example'].sort());
			expect(info.response).toMatch(/^250 /);
		} finally {
			transport.close();
		}
		const received = await bySubject(PEER, 'INBOX', subject);
		expect(received).toHaveLength(1);
		expect(received[0].from).toEqual([AGENT]);
		const sent = await bySubject(AGENT, 'Sent', subject);
		expect(sent).toHaveLength(1);
		expect(sent[0].flags).toContain('\\Seen');
		expect(await bySubject(AGENT, 'INBOX', subject)).toHaveLength(0);
		const outbox = outboxEntries(subject);
		expect(outbox).toHaveLength(1);
		expect(outbox[0].envelope).toMatchObject({
			mailFrom: AGENT,
			rcptTo: ['someone@outside.example'],
		});
		expect(
			smtpEvents().some((event) => event.event === 'data-accepted' && event.user === AGENT),
		).toBe(true);
	});

	it('delivers BCC recipients (here over STARTTLS) without showing them in the message', async () => {
		const subject = `bcc ${tag()}`;
		const transport = smtpTransport(PEER, 'starttls');
		try {
			const info = await transport.sendMail({
				from: PEER,
				to: 'visible@outside.example',
				bcc: OTHER,
				subject,
				text: 'Hi',
			});
			expect(info.accepted.sort()).toEqual([OTHER, 'visible@outside.example'].sort());
		} finally {
			transport.close();
		}
		const copy = await bySubject(OTHER, 'INBOX', subject);
		expect(copy).toHaveLength(1);
		expect(copy[0].source.toString('latin1')).not.toMatch(/^bcc:/im);
		const outbox = outboxEntries(subject);
		expect(outbox).toHaveLength(1);
		expect(outbox[0].envelope.rcptTo).toEqual(['visible@outside.example']);
		expect(await bySubject(PEER, 'Sent', subject)).toHaveLength(1);
	});
});

describe('sandbox lifecycle (a sandbox of its own)', () => {
	it(
		'counts IMAP connections, survives killImap/startImap, answers 451 while IMAP is down and keeps keys and CA across restarts',
		async () => {
			const dir = await mkdtemp(path.join(os.tmpdir(), 'agentmail-sandbox-test-'));
			const [imapPort, smtpImplicitTlsPort, smtpStartTlsPort, lmtpPort] = await freePorts(4);
			const ports = { imapPort, smtpImplicitTlsPort, smtpStartTlsPort, lmtpPort };
			const sandbox = await startSandbox({ dir, ...ports });
			const { info } = sandbox;
			const client = (address: string) => {
				const imap = new ImapFlow({
					host: info.imap.host,
					port: info.imap.port,
					secure: true,
					auth: {
						user: address,
						pass: info.inboxes.find((inbox) => inbox.address === address)?.apiKey ?? '',
					},
					tls: { ca: readFileSync(info.ca) },
					logger: false,
				});
				imap.on('error', () => undefined);
				return imap;
			};
			const countSettles = async (expected: number) => {
				const deadline = Date.now() + CONNECTION_COUNT_SETTLE_MS;
				while ((await sandbox.imapConnectionCount()) !== expected && Date.now() < deadline) {
					await new Promise((resolve) => setTimeout(resolve, 50));
				}
				expect(await sandbox.imapConnectionCount()).toBe(expected);
			};
			try {
				expect(await sandbox.imapConnectionCount()).toBe(0);
				const first = client(AGENT);
				await first.connect();
				const second = client(PEER);
				await second.connect();
				await countSettles(2);
				await second.logout();
				await countSettles(1);

				await expect(startSandbox({ dir, ...ports })).rejects.toThrow(/already running/);

				const closed = new Promise<void>((resolve) => first.once('close', () => resolve()));
				await sandbox.killImap();
				await closed;
				expect(await portAnswers(info.imap.host, info.imap.port)).toBe(false);
				expect(await portAnswers(info.lmtp.host, info.lmtp.port)).toBe(false);
				expect(await sandbox.imapConnectionCount()).toBe(0);

				// SMTP stays up, but a message it cannot store is not acknowledged.
				const subject = `while down ${tag()}`;
				const transport = nodemailer.createTransport({
					host: info.smtp.host,
					port: info.smtp.implicitTlsPort,
					secure: true,
					auth: { user: AGENT, pass: info.inboxes[0].apiKey },
					tls: { ca: readFileSync(info.ca) },
				});
				await expect(
					transport.sendMail({ from: AGENT, to: PEER, subject, text: 'x' }),
				).rejects.toMatchObject({
					responseCode: 451,
				});
				transport.close();
				expect(
					sandbox
						.smtpEvents()
						.some((event) => event.event === 'data-refused' && event.code === 451),
				).toBe(true);

				const subjectBefore = `before restart ${tag()}`;
				await sandbox.startImap();
				await deliver(info, PEER, rawMessage('x@outside.example', PEER, subjectBefore));
				const again = client(PEER);
				await again.connect();
				await again.mailboxOpen('INBOX');
				const found = (await again.search({ subject: subjectBefore }, { uid: true })) || [];
				expect(found).toHaveLength(1);
				await again.logout();
				await countSettles(0);

				const keys = info.inboxes;
				const ca = readFileSync(info.ca, 'utf8');
				await sandbox.stop();
				for (const port of Object.values(ports))
					expect(await portAnswers('127.0.0.1', port)).toBe(false);

				const restarted = await startSandbox({ dir, ...ports });
				try {
					expect(restarted.info.inboxes).toEqual(keys);
					expect(readFileSync(restarted.info.ca, 'utf8')).toBe(ca);
				} finally {
					await restarted.stop();
				}
			} finally {
				await sandbox.stop();
				await rm(dir, { recursive: true, force: true });
			}
		},
		BIG_MESSAGE_TEST_TIMEOUT_MS,
	);
});

describe('freePorts', () => {
	it('hands out distinct free ports below the ephemeral range, none twice in a row', async () => {
		const [ephemeralLow] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
			.trim()
			.split(/\s+/)
			.map(Number);
		const first = await freePorts(6);
		const second = await freePorts(6);
		const all = [...first, ...second];
		expect(new Set(all).size).toBe(all.length);
		for (const port of all) {
			// Below the range outgoing connections take their local ports from.
			expect(port).toBeLessThan(ephemeralLow);
			expect(port).toBeGreaterThanOrEqual(1024);
			const server = net.createServer();
			await new Promise<void>((resolve, reject) => {
				server.once('error', reject);
				server.listen(port, '127.0.0.1', () => resolve());
			});
			await new Promise<void>((resolve) => server.close(() => resolve()));
		}
	});
});

describe('many inboxes (a sandbox of its own)', () => {
	it(
		`opens extra inboxes with one inbox's key and holds ${MANY_SESSIONS} IMAP sessions at once`,
		async () => {
			const set = { prefix: 'many-', count: MANY_SESSIONS, keyOf: AGENT } as const;
			const sandbox = await startTemporarySandbox('agentmail-sandbox-many-', [set]);
			const { info } = sandbox;
			const addresses = extraInboxAddresses(set);
			const agentKey = info.inboxes.find((inbox) => inbox.address === AGENT)?.apiKey;
			const clients: ImapFlow[] = [];
			try {
				expect(addresses[0]).toBe('many-001@agentmail.test');
				for (const address of addresses) {
					expect(info.inboxes.find((inbox) => inbox.address === address)?.apiKey).toBe(agentKey);
				}
				const last = addresses[addresses.length - 1];
				const subject = `to the last extra inbox ${tag()}`;
				await deliver(info, last, rawMessage(PEER, last, subject));
				for (let i = 0; i < addresses.length; i += LOGINS_AT_ONCE) {
					await Promise.all(
						addresses.slice(i, i + LOGINS_AT_ONCE).map(async (address) => {
							const client = new ImapFlow({
								host: info.imap.host,
								port: info.imap.port,
								secure: true,
								auth: { user: address, pass: agentKey ?? '' },
								tls: { ca: readFileSync(info.ca) },
								logger: false,
							});
							client.on('error', () => undefined);
							clients.push(client);
							await client.connect();
							await client.mailboxOpen('INBOX');
							// Each IDLE session's imap process takes an inotify instance of the mail user.
							void client.idle().catch(() => undefined);
						}),
					);
				}
				expect(await sandbox.imapConnectionCount()).toBe(MANY_SESSIONS);
				// Every session still answers; only the last inbox has the mail.
				const searched = await Promise.all(
					clients.map(async (client) => (await client.search({ subject }, { uid: true })) || []),
				);
				expect(searched.filter((uids) => uids.length === 1)).toHaveLength(1);
				await Promise.all(clients.map(async (client) => await client.logout()));
				await sandbox.stop();
				// Every session heard of new mail at once: none fell back to polling every 30 s.
				const log = readFileSync(sandbox.imapLogFile, 'utf8');
				expect(log).toContain('Login: user=<many-250@agentmail.test>');
				expect(log).not.toMatch(/Inotify instance limit/);
			} finally {
				await Promise.all(
					clients.map(async (client) => await client.logout().catch(() => undefined)),
				);
				await sandbox.stop();
				await rm(sandbox.dir, { recursive: true, force: true });
			}
		},
		BIG_MESSAGE_TEST_TIMEOUT_MS,
	);
});
