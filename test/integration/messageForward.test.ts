/**
 * Message → Forward against the sandbox (real SMTP and Dovecot): the original, read over IMAP,
 * reaches the new recipient inline with its attachments or as an attached .eml, `Fwd: ` once;
 * AgentMail's limits are checked before anything goes on the wire; Send Once holds on a retry.
 */
import { randomUUID } from 'node:crypto';

import { simpleParser } from 'mailparser';

import { AgentMail } from '../../nodes/AgentMail/AgentMail.node';
import { mail, seedFolder } from '../helpers/mailbox';
import { runNode } from '../helpers/nodeHarness';
import { credentialData, listMessages, smtpEvents } from '../helpers/sandbox';

const agent = 'agent@agentmail.test';
const peer = 'peer@agentmail.test';
const node = new AgentMail();

const forward = (
	parameters: Record<string, unknown>,
	items: Array<Record<string, unknown>>,
	continueOnFail = false,
	workflowId?: string,
) =>
	runNode({
		node,
		credentials: credentialData(agent),
		parameters: { resource: 'message', operation: 'forward', to: peer, ...parameters },
		items: items.map((json) => ({ json: json as never })),
		continueOnFail,
		workflowId,
	});

/** The messages at the peer whose subject contains `tag`, parsed. */
async function received(tag: string) {
	const listed = (await listMessages(peer, 'INBOX')).filter((m) => m.subject?.includes(tag));
	return await Promise.all(listed.map(async (m) => await simpleParser(m.source)));
}

it('inline: the note, the original headers and text, and its attachment reach the recipient; Fwd: once', async () => {
	const tag = randomUUID();
	const original = mail(1, 'Jane <jane@customer.example>', `Invoice ${tag}`, 'Please pay.', {
		attachment: true,
	});
	const { folder, uids } = await seedFolder(agent, 'Fwd', [{ raw: original.raw }]);
	const { output } = await forward({ text: 'FYI, see below.' }, [
		{ uid: uids[0], folder, messageId: original.messageId },
	]);
	expect(output[0][0].json).toMatchObject({
		sent: true,
		subject: `Fwd: Invoice ${tag}`,
		forwardAs: 'inline',
		forwarded: { uid: uids[0], folder, messageId: original.messageId },
	});
	expect(output[0][0].pairedItem).toEqual({ item: 0 });
	const [got] = await received(tag);
	expect(got.subject).toBe(`Fwd: Invoice ${tag}`);
	expect(got.text).toMatch(
		/^FYI, see below\.\n\n-+ Forwarded message -+\nFrom: Jane <jane@customer\.example>\nDate: Tue, 24 Nov 2026 10:00:00 \+0000\nSubject: Invoice .+\nTo: Agent <agent@agentmail\.test>\n\nPlease pay\./,
	);
	expect(got.attachments.map((a) => [a.filename, a.content.toString()])).toEqual([
		['notes.txt', 'attached notes'],
	]);
	// Forwarding the forward does not stack prefixes.
	const again = mail(2, 'Bob <bob@supplier.example>', `FWD: Report ${tag}`, 'Numbers.');
	const seeded = await seedFolder(agent, 'FwdFwd', [{ raw: again.raw }]);
	const twice = await forward({}, [{ uid: seeded.uids[0], folder: seeded.folder }]);
	expect(twice.output[0][0].json.subject).toBe(`FWD: Report ${tag}`);
});

it('as an attachment: the original byte for byte as message/rfc822; by Message-ID', async () => {
	const tag = randomUUID();
	const original = mail(3, 'Jane <jane@customer.example>', `Contract ${tag}`, 'Grüße, signed.');
	const { folder } = await seedFolder(agent, 'FwdEml', [{ raw: original.raw }]);
	const { output } = await forward(
		{
			forwardAs: 'attachment',
			messageFrom: 'messageId',
			folder,
			messageId: original.messageId,
			text: 'Attached.',
		},
		[{}],
	);
	expect(output[0][0].json.sent).toBe(true);
	const listed = (await listMessages(peer, 'INBOX')).find((m) => m.subject?.includes(tag));
	const source = listed!.source.toString('latin1');
	expect(source).toMatch(/Content-Type: message\/rfc822/);
	expect(source).toMatch(/Content-Transfer-Encoding: 8bit/);
	expect(listed!.source.includes(Buffer.from(original.raw))).toBe(true);
	expect(source).toMatch(/Content-Disposition: attachment;/);
	expect(output[0][0].json.subject).toBe(`Fwd: Contract ${tag}`);
	const parsed = await simpleParser(listed!.source);
	expect(parsed.text).toBe('Attached.');
	expect(parsed.attachments.map((a) => [a.contentType, a.filename])).toEqual([
		['message/rfc822', `Contract ${tag}.eml`],
	]);
});

describe('limits are checked before anything goes on the wire', () => {
	it('an original over 10 MB, and 51 recipients: each item fails alone, nothing is sent', async () => {
		const tag = randomUUID().slice(0, 8);
		const big = mail(4, 'Jane <jane@customer.example>', 'Huge', 'x'.repeat(11 * 1024 * 1024));
		const small = mail(5, 'Jane <jane@customer.example>', `Small ${tag}`, 'fine');
		const { folder, uids } = await seedFolder(agent, 'FwdLimits', [
			{ raw: big.raw },
			{ raw: small.raw },
		]);
		const many = Array.from({ length: 51 }, (_, n) => `r${n}-${tag}@example.com`).join(', ');
		const to = [`big-${tag}@example.com`, many, peer];
		const before = smtpEvents().length;
		const { output } = await runNode({
			node,
			credentials: credentialData(agent),
			parameters: (i) => ({ resource: 'message', operation: 'forward', to: to[i] }),
			items: [uids[0], uids[1], uids[1]].map((uid) => ({ json: { uid, folder } })),
			continueOnFail: true,
		});
		expect(output[0].map((o) => o.pairedItem)).toEqual([0, 1, 2].map((item) => ({ item })));
		expect(output[0][0].json.error).toMatch(
			/^The message to forward \(UID \d+ in "FwdLimits-.+" of agent@agentmail\.test\) is 11\.0 MB .*; AgentMail sends at most 10\.0 MB/,
		);
		expect(output[0][1].json.error).toMatch(/has 51 recipients .* at most 50 per message/);
		expect(output[0][2].json.sent).toBe(true);
		const seen = smtpEvents()
			.slice(before)
			.filter((e) => e.address?.includes(tag));
		expect(seen).toEqual([]);
	});
});

it('Send Once: a retried execution forwards nothing again; another recipient still gets it', async () => {
	const tag = randomUUID();
	const original = mail(6, 'Jane <jane@customer.example>', `Once ${tag}`, 'Only once.');
	const { folder, uids } = await seedFolder(agent, 'FwdOnce', [{ raw: original.raw }]);
	const item = { uid: uids[0], folder, messageId: original.messageId };
	const workflowId = `wf-${tag}`;
	const first = await forward({}, [item], false, workflowId);
	expect(first.output[0][0].json.sent).toBe(true);
	const retry = await forward({}, [item], false, workflowId);
	expect(retry.output[0][0].json).toMatchObject({ sent: false, alreadySent: true });
	const other = await forward({ to: 'agent@agentmail.test' }, [item], false, workflowId);
	expect(other.output[0][0].json.sent).toBe(true);
	expect(await received(tag)).toHaveLength(1);
});

it('Continue On Fail: an item naming no message fails alone, paired with its input item', async () => {
	const tag = randomUUID();
	const original = mail(7, 'Jane <jane@customer.example>', `Paired ${tag}`, 'Hello.');
	const { folder, uids } = await seedFolder(agent, 'FwdPaired', [{ raw: original.raw }]);
	const { output } = await forward(
		{},
		[{ uid: 999, folder }, { uid: uids[0], folder }, { subject: 'none' }],
		true,
	);
	expect(output[0].map((o) => o.pairedItem)).toEqual([{ item: 0 }, { item: 1 }, { item: 2 }]);
	expect(output[0][0].json).toMatchObject({ sent: false });
	expect(output[0][0].json.error).toMatch(/There is no message with UID 999 in "FwdPaired-/);
	expect(output[0][1].json.sent).toBe(true);
	expect(output[0][2].json.error).toMatch(/The input item has no "uid" or "messageId"/);
	expect(await received(tag)).toHaveLength(1);
});
