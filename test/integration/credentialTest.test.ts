import { randomUUID } from 'node:crypto';
/**
 * The credential's connection test against the running sandbox (real Dovecot, real SMTP).
 */
import net from 'node:net';

import { testConnection } from '../../nodes/shared/connectionTest';
import { agentMailInboxConnectionTest } from '../../nodes/shared/methods/credentialTest';
import { freePorts } from '../../tools/sandbox/sandbox';
import { apiKey, sandboxInfo, smtpEvents, useOwnSandbox, credentialData } from '../helpers/sandbox';

// Counts what the servers saw: a sandbox of its own, undisturbed by other test files.
useOwnSandbox();

const inbox = 'agent@agentmail.test';

const credential = (overrides: Record<string, string | number | boolean> = {}) =>
	credentialData(inbox, overrides);

describe('credential test against the sandbox', () => {
	it('says OK with the right key, over SSL/TLS and over STARTTLS', async () => {
		const ssl = await testConnection(credential());
		expect(ssl).toMatchObject({ status: 'OK' });
		expect(ssl.message).toMatch(
			/^Connected as agent@agentmail\.test: IMAP login and LIST OK \(5 folders\), SMTP login OK\.$/,
		);
		const starttls = await testConnection(credential({ smtpSecurity: 'starttls' }));
		expect(starttls.status).toBe('OK');
	});

	it("answers in n8n's credential-test shape through the function nodes declare", async () => {
		const result = await agentMailInboxConnectionTest.call(
			{} as never,
			{ id: '1', name: 'AgentMail', type: 'agentMailInboxApi', data: credential() } as never,
		);
		expect(result).toEqual({ status: 'OK', message: expect.stringContaining('Connected as') });
	});

	it('a wrong key: both sides say to check the API key, and the key is not repeated', async () => {
		const wrongKey = `am_${randomUUID().replace(/-/g, '')}`;
		const result = await testConnection(credential({ apiKey: wrongKey }));
		expect(result.status).toBe('Error');
		expect(result.imap).toMatchObject({ ok: false, failure: { kind: 'auth', side: 'IMAP' } });
		expect(result.smtp).toMatchObject({ ok: false, failure: { kind: 'auth', side: 'SMTP' } });
		expect(result.message).toMatch(
			/IMAP 127\.0\.0\.1:\d+ refused the login for agent@agentmail\.test: check the API key/,
		);
		expect(result.message).toMatch(
			/SMTP 127\.0\.0\.1:\d+ refused the login for agent@agentmail\.test: check the API key/,
		);
		expect(JSON.stringify(result)).not.toContain(wrongKey);
		expect(JSON.stringify(result)).not.toContain(apiKey(inbox));
		// The server saw the attempt: this was a real login, not a short-circuit.
		expect(smtpEvents().some((e) => e.event === 'auth-failed' && e.user === inbox)).toBe(true);
	});

	it('a wrong port: says which side, that the port refused, and the right ports', async () => {
		const [closedA, closedB] = await freePorts(2);
		const result = await testConnection(credential({ imapPort: closedA, smtpPort: closedB }));
		expect(result.status).toBe('Error');
		expect(result.imap).toMatchObject({ ok: false, failure: { kind: 'refused' } });
		expect(result.smtp).toMatchObject({ ok: false, failure: { kind: 'refused' } });
		expect(result.message).toContain(`IMAP 127.0.0.1:${closedA} refused the connection`);
		expect(result.message).toContain('AgentMail uses 993');
		expect(result.message).toContain(`SMTP 127.0.0.1:${closedB} refused the connection`);
	});

	it('STARTTLS chosen on the implicit-TLS port: says to choose SSL/TLS', async () => {
		const info = sandboxInfo();
		const result = await testConnection(
			credential({ smtpSecurity: 'starttls', smtpStartTlsPort: info.smtp.implicitTlsPort }),
		);
		expect(result.status).toBe('Error');
		expect(result.imap).toMatchObject({ ok: true });
		expect(result.smtp).toMatchObject({
			ok: false,
			failure: { kind: 'tls-mismatch', permanent: true },
		});
		expect(result.message).toContain('this port expects TLS from the first byte');
		expect(result.message).toContain('Set SMTP Security to "SSL/TLS (465)"');
	});

	it('SSL/TLS chosen on the STARTTLS port: says to choose STARTTLS', async () => {
		const info = sandboxInfo();
		const result = await testConnection(credential({ smtpPort: info.smtp.startTlsPort }));
		expect(result.status).toBe('Error');
		expect(result.smtp).toMatchObject({ ok: false, failure: { kind: 'tls-mismatch' } });
		expect(result.message).toContain('Set SMTP Security to "STARTTLS (587)"');
	});

	it('an IMAP port that does not speak TLS first: says AgentMail needs TLS on connect', async () => {
		const info = sandboxInfo();
		const result = await testConnection(credential({ imapPort: info.smtp.startTlsPort }));
		expect(result.imap).toMatchObject({ ok: false, failure: { kind: 'tls-mismatch' } });
		expect(result.message).toContain('needs TLS on connect, on port 993');
	});

	it('an untrusted certificate: says so and how to trust it; the switch lets it through', async () => {
		const result = await testConnection(credential({ trustedCa: '' }));
		expect(result.status).toBe('Error');
		expect(result.imap).toMatchObject({ ok: false, failure: { kind: 'certificate' } });
		expect(result.smtp).toMatchObject({ ok: false, failure: { kind: 'certificate' } });
		expect(result.message).toContain('paste its CA into "Custom CA Certificate"');
		expect(
			(await testConnection(credential({ trustedCa: '', allowSelfSigned: true }))).status,
		).toBe('OK');
	});

	it('an unknown host: says the host could not be found', async () => {
		const result = await testConnection(credential({ imapHost: 'no-such-host.invalid' }));
		expect(result.imap).toMatchObject({ ok: false, failure: { kind: 'dns' } });
		expect(result.message).toContain('IMAP host "no-such-host.invalid" could not be found');
	});

	it('a server that accepts but never speaks: gives up within the probe deadline', async () => {
		// A listener that never answers, like a firewall that swallows the handshake.
		const silent = net.createServer(() => undefined);
		await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
		const port = (silent.address() as net.AddressInfo).port;
		try {
			const result = await testConnection(credential({ imapPort: port }));
			expect(result.imap).toMatchObject({ ok: false, failure: { kind: 'timeout' } });
			expect(result.message).toContain('did not answer in time');
		} finally {
			silent.close();
		}
	}, 40_000);

	it('a field problem is reported before connecting', async () => {
		const before = smtpEvents().length;
		const result = await testConnection(credential({ email: 'not-an-address' }));
		expect(result).toEqual({
			status: 'Error',
			message: expect.stringContaining('Inbox Address "not-an-address" is not an email address'),
		});
		expect(smtpEvents().length).toBe(before);
	});
});
