import {
	findReplyToken,
	localResumeUrl,
	mayHoldToken,
	parseReplyToken,
	replyMessageId,
	signatureOf,
} from '../../../nodes/shared/sendAndWait/replyToken';

const signature = 'ab'.repeat(32);
const token = { executionId: '1234', nodeId: '0f1e2d3c-aaaa-4bbb-8ccc-123456789abc', signature };
const apiKey = 'am_test_key';

describe('reply token', () => {
	it('round-trips through the Message-ID, in the inbox’s domain', () => {
		const id = replyMessageId(token, 'Agent@AgentMail.to', apiKey);
		expect(id).toMatch(/^<n8nwait\.1234\.[0-9a-f]+\.[0-9a-f]{64}@agentmail\.to>$/);
		expect(parseReplyToken(id, apiKey)).toEqual(token);
	});

	it('does not show the signature: it is masked with the API key', () => {
		const id = replyMessageId(token, 'a@b.c', apiKey);
		expect(id).not.toContain(signature);
		// Another key reads another signature (which n8n then refuses).
		expect(parseReplyToken(id, 'another key')?.signature).not.toBe(signature);
		// Each execution has its own mask: equal signatures do not look equal.
		const other = replyMessageId({ ...token, executionId: '1235' }, 'a@b.c', apiKey);
		expect(other.split('.')[3]).not.toBe(id.split('.')[3]);
	});

	it('keeps any node id (old workflows have free text ids)', () => {
		const odd = { ...token, nodeId: 'My node / 2.é' };
		expect(parseReplyToken(replyMessageId(odd, 'a@b.c', apiKey), apiKey)).toEqual(odd);
	});

	it('reads a Message-ID whose case a server changed', () => {
		const id = replyMessageId(token, 'a@b.c', apiKey).toUpperCase().replace('N8NWAIT', 'n8nwait');
		expect(parseReplyToken(id, apiKey)).toEqual(token);
	});

	it.each([
		'<once.abc@b.c>',
		`<n8nwait.1234.zz.${signature}@b.c>`,
		`<n8nwait.1234.61.${'ab'.repeat(31)}@b.c>`,
		`<n8nwait.12/34.61.${signature}@b.c>`,
		`n8nwait.1234.61.${signature}@b.c`,
	])('refuses %s', (id) => {
		expect(parseReplyToken(id, apiKey)).toBeNull();
	});

	it('refuses to build a token from a malformed signature', () => {
		expect(() => replyMessageId({ ...token, signature: 'x' }, 'a@b.c', apiKey)).toThrow(
			/malformed/,
		);
	});

	it('finds the token in In-Reply-To first, then in References from the newest', () => {
		const id = replyMessageId(token, 'a@b.c', apiKey);
		const other = replyMessageId({ ...token, executionId: '9' }, 'a@b.c', apiKey);
		expect(findReplyToken(id, [other], apiKey)).toEqual(token);
		expect(findReplyToken('<x@y>', [other, id], apiKey)).toEqual(token);
		expect(findReplyToken(null, ['<x@y>'], apiKey)).toBeNull();
	});

	it('cheaply tells header bytes that cannot hold a token', () => {
		expect(mayHoldToken(Buffer.from('In-Reply-To: <abc@def>\r\n'))).toBe(false);
		const id = replyMessageId(token, 'a@b.c', apiKey);
		expect(mayHoldToken(Buffer.from(`References: ${id}\r\n`))).toBe(true);
	});

	it('takes the signature from a signed resume URL, and refuses one without', () => {
		expect(signatureOf(`https://n8n.example/webhook-waiting/1/n?signature=${signature}`)).toBe(
			signature,
		);
		expect(() => signatureOf('https://n8n.example/webhook-waiting/1/n')).toThrow(
			/without a signature/,
		);
	});
});

describe('localResumeUrl', () => {
	it('is this n8n on loopback, whatever host the mail came from', () => {
		const url = localResumeUrl(token, {});
		expect(url.origin).toBe('http://127.0.0.1:5678');
		expect(url.pathname).toBe(`/webhook-waiting/1234/${token.nodeId}`);
		// As n8n signed it: the reply mark first, then the signature over path and query.
		expect(url.search).toBe(`?reply=1&signature=${signature}`);
	});

	it('follows n8n’s port, protocol, listen address and waiting endpoint', () => {
		const url = localResumeUrl(
			{ ...token, nodeId: 'a b' },
			{
				N8N_PORT: '8080',
				N8N_PROTOCOL: 'https',
				N8N_LISTEN_ADDRESS: '::1',
				N8N_ENDPOINT_WEBHOOK_WAIT: '/wait/',
			},
		);
		expect(url.origin).toBe('https://[::1]:8080');
		expect(url.pathname).toBe('/wait/1234/a%20b');
	});

	it('ignores a port that is not a number', () => {
		expect(localResumeUrl(token, { N8N_PORT: 'evil.example' }).host).toBe('127.0.0.1:5678');
	});
});
