import { simpleParser } from 'mailparser';

import { classifyAutomatic } from '../../../nodes/shared/mime/automatic';
import { headersOnlyItem, parseMessage } from '../../../nodes/shared/mime/toItem';
import { compose, INBOX, metaFor } from './helpers';

const ordinary = {
	from: 'Jane Doe <jane@example.com>',
	to: INBOX,
	subject: 'Question about my order',
	'return-path': '<jane@example.com>',
	'content-type': 'text/plain; charset=utf-8',
	received: ['from a by b', 'from c by d'],
};

describe('classifyAutomatic on item headers', () => {
	it('says no for ordinary mail', () => {
		expect(classifyAutomatic(ordinary, INBOX)).toEqual({ automatic: false, reason: null });
		expect(classifyAutomatic({})).toEqual({ automatic: false, reason: null });
	});

	it('flags mail from the inbox itself, case-insensitively', () => {
		const headers = { ...ordinary, from: 'Agent <AGENT@AgentMail.test>' };
		expect(classifyAutomatic(headers, INBOX)).toEqual({
			automatic: true,
			reason: `From is the inbox itself (${INBOX})`,
		});
		// Without the inbox address there is nothing to compare with.
		expect(classifyAutomatic(headers).automatic).toBe(false);
	});

	it.each([
		['auto-replied', 'Auto-Submitted: auto-replied'],
		['auto-generated; type=reminder', 'Auto-Submitted: auto-generated'],
		['auto-notified (by a robot)', 'Auto-Submitted: auto-notified'],
	])('flags Auto-Submitted: %s', (value, reason) => {
		expect(classifyAutomatic({ ...ordinary, 'auto-submitted': value })).toEqual({
			automatic: true,
			reason,
		});
	});

	it.each(['no', 'No', 'no (sent by a person)'])('does not flag Auto-Submitted: %s', (value) => {
		expect(classifyAutomatic({ ...ordinary, 'auto-submitted': value }).automatic).toBe(false);
	});

	it.each(['bulk', 'junk', 'list', 'BULK'])('flags Precedence: %s', (value) => {
		expect(classifyAutomatic({ ...ordinary, precedence: value })).toEqual({
			automatic: true,
			reason: `Precedence: ${value.toLowerCase()}`,
		});
	});

	it('does not flag other Precedence values', () => {
		expect(classifyAutomatic({ ...ordinary, precedence: 'first-class' }).automatic).toBe(false);
	});

	it('reads repeated headers (arrays)', () => {
		expect(classifyAutomatic({ ...ordinary, precedence: ['first-class', 'list'] }).reason).toBe(
			'Precedence: list',
		);
	});

	it('flags X-Autoreply and X-Autorespond', () => {
		expect(classifyAutomatic({ ...ordinary, 'x-autoreply': 'yes' })).toEqual({
			automatic: true,
			reason: 'X-Autoreply: yes',
		});
		expect(classifyAutomatic({ ...ordinary, 'x-autorespond': 'Out of office' })).toEqual({
			automatic: true,
			reason: 'X-Autorespond: Out of office',
		});
	});

	it.each([
		['Mail Delivery Subsystem <MAILER-DAEMON@mx.example.com>', 'MAILER-DAEMON@mx.example.com'],
		['postmaster@example.org', 'postmaster@example.org'],
	])('flags a bounce from %s', (from, address) => {
		expect(classifyAutomatic({ ...ordinary, from })).toEqual({
			automatic: true,
			reason: `bounce: From ${address}`,
		});
	});

	it('flags a delivery status report', () => {
		const headers = {
			...ordinary,
			'content-type': 'multipart/report; report-type="delivery-status";\tboundary="x"',
		};
		expect(classifyAutomatic(headers)).toEqual({
			automatic: true,
			reason: 'bounce or report: Content-Type multipart/report; report-type=delivery-status',
		});
	});

	it('flags an empty Return-Path', () => {
		expect(classifyAutomatic({ ...ordinary, 'return-path': '<>' })).toEqual({
			automatic: true,
			reason: 'bounce: empty Return-Path <>',
		});
		expect(classifyAutomatic({ ...ordinary, 'return-path': '< >' }).automatic).toBe(true);
	});

	it('does not mistake look-alike addresses', () => {
		expect(
			classifyAutomatic({ ...ordinary, from: 'daemon-fan@example.com' }, INBOX).automatic,
		).toBe(false);
		expect(
			classifyAutomatic({ ...ordinary, from: 'agent@agentmail.test.evil.com' }, INBOX).automatic,
		).toBe(false);
	});
});

describe('classifyAutomatic on mailparser headers (Map)', () => {
	const headersOf = async (lines: string[]) =>
		(await simpleParser(Buffer.from([...lines, '', 'body', ''].join('\r\n')))).headers;

	it('reads structured values', async () => {
		expect(
			classifyAutomatic(
				await headersOf(['From: jane@example.com', 'Auto-Submitted: auto-replied']),
			),
		).toEqual({ automatic: true, reason: 'Auto-Submitted: auto-replied' });
		expect(classifyAutomatic(await headersOf(['From: MAILER-DAEMON@mx.example.com']))).toEqual({
			automatic: true,
			reason: 'bounce: From MAILER-DAEMON@mx.example.com',
		});
		expect(
			classifyAutomatic(await headersOf(['From: Me <agent@agentmail.test>']), INBOX).reason,
		).toBe(`From is the inbox itself (${INBOX})`);
		expect(
			classifyAutomatic(
				await headersOf([
					'From: x@example.com',
					'Content-Type: multipart/report; report-type=delivery-status; boundary=b',
				]),
			).reason,
		).toBe('bounce or report: Content-Type multipart/report; report-type=delivery-status');
		expect(
			classifyAutomatic(await headersOf(['From: x@example.com', 'Return-Path: <>'])).reason,
		).toBe('bounce: empty Return-Path <>');
		expect(
			classifyAutomatic(await headersOf(['From: x@example.com', 'Precedence: bulk'])).reason,
		).toBe('Precedence: bulk');
	});

	it('says no for ordinary mail', async () => {
		const headers = await headersOf([
			'From: Jane <jane@example.com>',
			'Return-Path: <jane@example.com>',
			'Subject: hi',
		]);
		expect(classifyAutomatic(headers, INBOX)).toEqual({ automatic: false, reason: null });
	});
});

describe('automatic verdict of parsed items', () => {
	it('comes with parseMessage, using the inbox option', async () => {
		const reply = await compose({
			from: 'jane@example.com',
			to: INBOX,
			subject: 'Out of office',
			headers: { 'Auto-Submitted': 'auto-replied' },
			text: 'I am away.',
		});
		expect((await parseMessage(reply, metaFor(reply))).automatic).toEqual({
			automatic: true,
			reason: 'Auto-Submitted: auto-replied',
		});
		const own = await compose({ from: INBOX, to: 'jane@example.com', subject: 'hi', text: 'x' });
		expect((await parseMessage(own, metaFor(own), { inbox: INBOX })).automatic.automatic).toBe(
			true,
		);
		expect((await parseMessage(own, metaFor(own))).automatic.automatic).toBe(false);
	});

	it('comes with headersOnlyItem', () => {
		const header = Buffer.from('From: jane@example.com\r\nPrecedence: list\r\n\r\n');
		expect(headersOnlyItem(header, metaFor(header), 'too big').automatic).toEqual({
			automatic: true,
			reason: 'Precedence: list',
		});
		expect(headersOnlyItem(header, metaFor(header), 'too big', INBOX).automatic.automatic).toBe(
			true,
		);
	});
});
