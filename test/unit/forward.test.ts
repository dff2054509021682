/** Forwarding's parts (nodes/shared/smtp/forward.ts), built from raw originals. */
import { forwardParts, forwardSubject } from '../../nodes/shared/smtp/forward';

const inbox = 'agent@agentmail.test';
const place = { uid: 7, folder: 'INBOX' };

/** An HTML message with a plain-text alternative and an inline image referred to by cid. */
const htmlOriginal = Buffer.from(
	[
		'From: "Jane Doe" <jane@customer.example>',
		'To: agent@agentmail.test',
		'Cc: Bob <bob@customer.example>',
		'Subject: Logo <draft>',
		'Message-ID: <html.1@customer.example>',
		'Date: Tue, 24 Nov 2026 10:00:00 +0000',
		'MIME-Version: 1.0',
		'Content-Type: multipart/related; boundary="rel"',
		'',
		'--rel',
		'Content-Type: text/html; charset=utf-8',
		'',
		'<html><head><style>p{}</style></head><body><p>See <img src="cid:logo@x"></p></body></html>',
		'--rel',
		'Content-Type: image/png; name="logo.png"',
		'Content-ID: <logo@x>',
		'Content-Disposition: inline; filename="logo.png"',
		'Content-Transfer-Encoding: base64',
		'',
		Buffer.from('not really a png').toString('base64'),
		'--rel--',
		'',
	].join('\r\n'),
);

it('"Fwd: " once, whatever the case of an existing prefix', () => {
	expect(forwardSubject('Invoice')).toBe('Fwd: Invoice');
	expect(forwardSubject(' fwd: Invoice ')).toBe('fwd: Invoice');
	expect(forwardSubject('FW:Invoice')).toBe('FW:Invoice');
	expect(forwardSubject('Re: Invoice')).toBe('Fwd: Re: Invoice');
	expect(forwardSubject('')).toBe('Fwd:');
});

it('inline: the HTML body inside the forward, the image kept with its Content-ID, headers escaped', async () => {
	const parts = await forwardParts(
		{ raw: htmlOriginal, ...place },
		'inline',
		{ text: 'FYI' },
		inbox,
	);
	expect(parts.subject).toBe('Fwd: Logo <draft>');
	expect(parts.text).toMatch(
		/^FYI\n\n-+ Forwarded message -+\nFrom: Jane Doe <jane@customer\.example>\nDate: Tue, 24 Nov 2026 10:00:00 \+0000\nSubject: Logo <draft>\nTo: agent@agentmail\.test\nCc: Bob <bob@customer\.example>\n\n/,
	);
	expect(parts.html).toContain('FYI<br><br>');
	expect(parts.html).toContain('Subject: Logo &#60;draft&#62;<br>');
	expect(parts.html).toContain('<p>See <img src="cid:logo@x"></p>');
	// Only the original's body goes in: no second <html> or <head> inside the forward.
	expect(parts.html).not.toMatch(/<head>|<html>/);
	expect(
		parts.attachments.map((a) => [a.filename, a.contentType, a.cid, a.content.toString()]),
	).toEqual([['logo.png', 'image/png', 'logo@x', 'not really a png']]);
	expect(parts.original).toEqual({
		messageId: '<html.1@customer.example>',
		subject: 'Logo <draft>',
		from: 'Jane Doe <jane@customer.example>',
		...place,
	});
});

it('attachment: the original unchanged as an .eml named after its subject, the note alone as the body', async () => {
	const parts = await forwardParts(
		{ raw: htmlOriginal, ...place },
		'attachment',
		{ text: 'See attached' },
		inbox,
	);
	expect(parts.text).toBe('See attached');
	expect(parts.html).toBeUndefined();
	expect(parts.attachments).toHaveLength(1);
	expect(parts.attachments[0]).toMatchObject({
		filename: 'Logo draft.eml',
		contentType: 'message/rfc822',
		contentDisposition: 'attachment',
	});
	expect(parts.attachments[0].content.equals(htmlOriginal)).toBe(true);
});
