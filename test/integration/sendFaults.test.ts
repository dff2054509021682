/**
 * The AgentMail node when the SMTP side misbehaves, against a sandbox of this file's own (its
 * faults must not disturb other tests): sessions ended between messages, a connection cut in
 * the middle of a message, and a "STARTTLS" port that does not offer STARTTLS.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { SMTPServer } from 'smtp-server';

import { AgentMail } from '../../nodes/AgentMail/AgentMail.node';
import { runNode } from '../helpers/nodeHarness';
import { listMessages, useOwnSandbox, credentialData } from '../helpers/sandbox';
import { freePorts } from '../../tools/sandbox/sandbox';

const agent = 'agent@agentmail.test';
const peer = 'peer@agentmail.test';
const node = new AgentMail();
const sandbox = useOwnSandbox();

afterEach(() => {
	delete sandbox().smtpFaults.endSessionAfterMessages;
	delete sandbox().smtpFaults.dropDuringData;
	delete sandbox().smtpFaults.closeInsteadOfAccepting;
});

const credentials = (overrides: Record<string, string | number | boolean> = {}) =>
	credentialData(agent, overrides);

async function subjectsIn(address: string, prefix: string): Promise<string[]> {
	return (await listMessages(address, 'INBOX'))
		.map((m) => m.subject ?? '')
		.filter((subject) => subject.startsWith(prefix));
}

function sessionsSince(since: number): number {
	return new Set(
		sandbox()
			.smtpEvents()
			.slice(since)
			.filter((e) => e.event === 'connect')
			.map((e) => e.session),
	).size;
}

const sendItems = (tag: string, count: number, continueOnFail = false, overrides = {}) =>
	runNode({
		node,
		credentials: credentials(overrides),
		parameters: (i) => ({
			resource: 'message',
			operation: 'send',
			to: peer,
			subject: `${tag} #${i}`,
			text: 'x'.repeat(2000),
		}),
		items: Array.from({ length: count }, () => ({ json: {} })),
		continueOnFail,
	});

it('the server ending the session between messages: every item delivered exactly once', async () => {
	sandbox().smtpFaults.endSessionAfterMessages = 3;
	const tag = `timeout-${randomUUID()}`;
	const since = sandbox().smtpEvents().length;
	const { output } = await sendItems(tag, 10);
	expect(output[0].map((o) => o.json.sent)).toEqual(Array(10).fill(true));
	// 3 + 3 + 3 + 1 messages: a new session after each forced end, and no more.
	expect(sessionsSince(since)).toBe(4);
	const received = await subjectsIn(peer, tag);
	expect(received.sort()).toEqual(Array.from({ length: 10 }, (_, i) => `${tag} #${i}`).sort());
});

it('the server closing the session (421) in answer to a message body: that message is sent again, once', async () => {
	// What a session limit striking mid-transaction does; seen in the drills under load, where
	// the server's 421 came after the client had begun the next message.
	sandbox().smtpFaults.closeInsteadOfAccepting = 3;
	const tag = `closed-${randomUUID()}`;
	const since = sandbox().smtpEvents().length;
	const { output, logs } = await sendItems(tag, 5);
	expect(output[0].map((o) => o.json.sent)).toEqual([true, true, true, true, true]);
	expect(sessionsSince(since)).toBe(2);
	expect(
		logs.some((l) => /SMTP session ended before the server took the message/.test(l.message)),
	).toBe(true);
	expect((await subjectsIn(peer, tag)).sort()).toEqual(
		Array.from({ length: 5 }, (_, i) => `${tag} #${i}`).sort(),
	);
});

it('a connection cut mid-message: that item reports it, is not resent, the rest go out', async () => {
	sandbox().smtpFaults.dropDuringData = 2;
	const tag = `drop-${randomUUID()}`;
	const since = sandbox().smtpEvents().length;
	const { output } = await sendItems(tag, 4, true);
	const results = output[0].map((o) => o.json);
	expect(results.map((r) => r.sent)).toEqual([true, false, true, true]);
	expect(results[1]).toMatchObject({ delivered: 'unknown' });
	expect(results[1].error).toMatch(
		/broke while the message was being sent .* so it was not sent again/,
	);
	const dataAttempts = sandbox()
		.smtpEvents()
		.slice(since)
		.filter((e) => ['data-accepted', 'data-refused', 'data-dropped'].includes(e.event));
	// Four bodies were sent, one each: the cut one was not retried.
	expect(dataAttempts.map((e) => e.event)).toEqual([
		'data-accepted',
		'data-dropped',
		'data-accepted',
		'data-accepted',
	]);
	expect((await subjectsIn(peer, tag)).sort()).toEqual([`${tag} #0`, `${tag} #2`, `${tag} #3`]);
});

it('STARTTLS chosen and the server offers none: refuses to log in or send', async () => {
	const seen: string[] = [];
	// A server that would accept everything in clear, if a client let it.
	const plain = new SMTPServer({
		disabledCommands: ['STARTTLS'],
		allowInsecureAuth: true,
		authOptional: true,
		logger: false,
		onAuth: (auth, _session, callback) => {
			seen.push('auth');
			callback(null, { user: auth.username });
		},
		onMailFrom: (_address, _session, callback) => {
			seen.push('mail');
			callback();
		},
		onData: (stream, _session, callback) => {
			seen.push('data');
			stream.resume();
			stream.on('end', () => callback());
		},
	});
	plain.on('error', () => undefined);
	const [port] = await freePorts(1);
	await new Promise<void>((resolve) => plain.listen(port, '127.0.0.1', resolve));
	try {
		const error = await sendItems(`plain-${randomUUID()}`, 1, false, {
			smtpSecurity: 'starttls',
			smtpStartTlsPort: port,
		}).catch((e: Error) => e);
		expect(error).toBeInstanceOf(Error);
		expect((error as Error).message).toMatch(
			/did not upgrade the connection with STARTTLS, so nothing was sent/,
		);
		expect(seen).toEqual([]);
	} finally {
		await new Promise<void>((resolve) => plain.close(() => resolve()));
	}
});

describe('server answers to a message', () => {
	/**
	 * A TLS SMTP server (with the sandbox's certificate) that answers as scripted: refuses one
	 * recipient, the sender, or the message size, the way AgentMail's server can.
	 */
	async function scriptedServer(script: {
		refuseRecipient?: string;
		refuseSender?: boolean;
		tooLarge?: boolean;
	}) {
		const tlsDir = path.join(sandbox().dir, 'tls');
		const server = new SMTPServer({
			secure: true,
			key: readFileSync(path.join(tlsDir, 'server.key')),
			cert: readFileSync(path.join(tlsDir, 'server.crt')),
			logger: false,
			onAuth: (auth, _session, callback) => callback(null, { user: auth.username }),
			onMailFrom: (_address, _session, callback) =>
				script.refuseSender
					? callback(Object.assign(new Error('5.7.1 Sender not authorized'), { responseCode: 550 }))
					: callback(),
			onRcptTo: (address, _session, callback) =>
				address.address === script.refuseRecipient
					? callback(Object.assign(new Error('5.1.1 No such user'), { responseCode: 550 }))
					: callback(),
			onData: (stream, _session, callback) => {
				stream.resume();
				stream.on('end', () =>
					script.tooLarge
						? callback(Object.assign(new Error('5.3.4 Message too big'), { responseCode: 552 }))
						: callback(null, '2.0.0 queued'),
				);
			},
		});
		server.on('error', () => undefined);
		const [port] = await freePorts(1);
		await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
		return { port, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
	}

	const sendTo = (port: number, to: string) =>
		runNode({
			node,
			credentials: credentials({ smtpPort: port }),
			parameters: { resource: 'message', operation: 'send', to, subject: 'scripted', text: 'x' },
			items: [{ json: {} }],
			continueOnFail: true,
		});

	it('a partly refused message is sent, with the refused recipient and why in the item', async () => {
		const server = await scriptedServer({ refuseRecipient: 'nobody@example.com' });
		try {
			const { output } = await sendTo(server.port, `${peer}, nobody@example.com`);
			expect(output[0][0].json).toMatchObject({
				sent: true,
				accepted: [peer],
				rejected: ['nobody@example.com'],
				rejectedReasons: [
					{ recipient: 'nobody@example.com', response: expect.stringContaining('550') },
				],
			});
		} finally {
			await server.close();
		}
	});

	it.each([
		[
			{ refuseSender: true },
			/did not accept agent@agentmail\.test as the sender .*from the inbox itself/,
		],
		[{ tooLarge: true }, /refused the message as too large .*at most 10\.0 MB/],
	])('%j becomes a clear error', async (script, message) => {
		const server = await scriptedServer(script);
		try {
			const { output } = await sendTo(server.port, peer);
			expect(output[0][0].json).toMatchObject({ sent: false, delivered: 'no' });
			expect(output[0][0].json.error).toMatch(message);
		} finally {
			await server.close();
		}
	});
});
