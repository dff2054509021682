import { randomUUID } from 'node:crypto';
import { rootCertificates } from 'node:tls';

import { CredentialError } from '../../nodes/shared/errors';
import {
	forInbox,
	imapOptions,
	parseConnection,
	secureContextFor,
	smtpOptions,
} from '../../nodes/shared/connection';
import { describeConnectionError } from '../../nodes/shared/connectionErrors';

// A made-up key, different on every run.
const base = { email: 'myinbox@agentmail.to', apiKey: `am_${randomUUID().replace(/-/g, '')}` };

describe('parseConnection', () => {
	it("fills in AgentMail's hosts and ports", () => {
		expect(parseConnection(base)).toMatchObject({
			imapHost: 'imap.agentmail.to',
			imapPort: 993,
			smtpHost: 'smtp.agentmail.to',
			smtpSecurity: 'ssl',
			smtpPort: 465,
			allowUnauthorizedCerts: false,
		});
		expect(parseConnection({ ...base, smtpSecurity: 'starttls' }).smtpPort).toBe(587);
	});

	it.each([
		[{ ...base, email: '' }, /Inbox Address is empty/],
		[{ ...base, email: 'myinbox' }, /"myinbox" is not an email address/],
		[{ ...base, apiKey: '  ' }, /API Key is empty/],
		[{ ...base, imapPort: 99999 }, /IMAP Port must be a whole number/],
		[{ ...base, smtpSecurity: 'none' }, /SMTP Security "none" is not supported/],
		[{ ...base, trustedCa: 'not a pem' }, /Custom CA Certificate is not a PEM certificate/],
	])('explains a bad field (%#)', (data, message) => {
		expect(() => parseConnection(data)).toThrow(CredentialError);
		expect(() => parseConnection(data)).toThrow(message);
	});
});

describe('connection options', () => {
	const pem = rootCertificates[0];

	it('always uses TLS: implicit on IMAP and 465, required STARTTLS on 587', () => {
		expect(imapOptions(parseConnection(base))).toMatchObject({ secure: true, port: 993 });
		expect(smtpOptions(parseConnection(base))).toMatchObject({ secure: true, requireTLS: false });
		expect(smtpOptions(parseConnection({ ...base, smtpSecurity: 'starttls' }))).toMatchObject({
			secure: false,
			requireTLS: true,
			port: 587,
		});
	});

	it('verifies certificates unless told otherwise; a custom CA adds to the system roots', () => {
		const plain = imapOptions(parseConnection(base)).tls;
		expect(plain).toMatchObject({ rejectUnauthorized: true, minVersion: 'TLSv1.2' });
		// No custom CA: Node's own context with the system roots.
		expect(plain).not.toHaveProperty('secureContext');
		expect(plain).not.toHaveProperty('ca');
		const withCa = smtpOptions(parseConnection({ ...base, trustedCa: pem.replace(/\n/g, '\\n') }));
		expect(withCa.tls?.secureContext).toBeDefined();
		expect(withCa.tls).not.toHaveProperty('ca');
		expect(smtpOptions(parseConnection({ ...base, allowSelfSigned: true })).tls).toMatchObject({
			rejectUnauthorized: false,
		});
	});

	it('shares one TLS context per custom CA across connections, IMAP and SMTP alike', () => {
		const other = rootCertificates[1];
		const credential = (ca: string) => parseConnection({ ...base, trustedCa: ca });
		const first = imapOptions(credential(pem)).tls?.secureContext;
		expect(first).toBe(secureContextFor(credential(pem).caCertificate!));
		expect(imapOptions(credential(pem)).tls?.secureContext).toBe(first);
		expect(smtpOptions(credential(pem)).tls?.secureContext).toBe(first);
		expect(imapOptions(credential(other)).tls?.secureContext).not.toBe(first);
	});

	it('never lets nodemailer read files or URLs', () => {
		expect(smtpOptions(parseConnection(base))).toMatchObject({
			disableFileAccess: true,
			disableUrlAccess: true,
		});
	});
});

describe('describeConnectionError', () => {
	const connection = parseConnection(base);

	it('never repeats the API key, even when the library put it in its message', () => {
		const failure = describeConnectionError(
			new Error(`weird failure for ${base.apiKey}`),
			'SMTP',
			connection,
		);
		expect(failure.message).not.toContain(base.apiKey);
		expect(failure.message).toContain('***');
	});

	it('tells a login refusal apart from a network failure', () => {
		expect(
			describeConnectionError(
				Object.assign(new Error('x'), { authenticationFailed: true }),
				'IMAP',
				connection,
			),
		).toMatchObject({ kind: 'auth', permanent: true });
		expect(
			describeConnectionError(
				Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
				'IMAP',
				connection,
			),
		).toMatchObject({ kind: 'refused', permanent: false });
	});
});

describe('forInbox (a node’s Inbox Address)', () => {
	const connection = parseConnection(base);

	it('empty, or the credential’s own inbox: the credential’s connection as it is', () => {
		expect(forInbox(connection, '')).toBe(connection);
		expect(forInbox(connection, undefined)).toBe(connection);
		expect(forInbox(connection, ' MyInbox@AgentMail.to ')).toBe(connection);
	});

	it('another inbox: its address as login and From, the same key and servers', () => {
		expect(forInbox(connection, ' team@agentmail.to')).toEqual({
			...connection,
			email: 'team@agentmail.to',
			inboxFromNode: true,
		});
	});

	it('refuses what is not an address, naming the field', () => {
		expect(() => forInbox(connection, 'team')).toThrow(CredentialError);
		expect(() => forInbox(connection, 'team')).toThrow(
			/node's Inbox Address "team" is not an email address/,
		);
	});

	it('a refused login for it says the key may not open that inbox, and never shows the key', () => {
		const failure = describeConnectionError(
			Object.assign(new Error(`denied ${base.apiKey}`), { authenticationFailed: true }),
			'IMAP',
			forInbox(connection, 'team@agentmail.to'),
		);
		expect(failure.message).toMatch(
			/refused the login for team@agentmail.to: the credential's API key may not open this inbox/,
		);
		expect(failure.message).not.toContain(base.apiKey);
	});
});
