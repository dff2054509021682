/**
 * Folder → Get Many against the sandbox's Dovecot: every folder with its counts, from the
 * inbox the item names, over one IMAP connection for all items.
 */
import { AgentMail } from '../../nodes/AgentMail/AgentMail.node';
import { DRAFTS_NOTE } from '../../nodes/shared/imap/inbox';
import { seedFolder } from '../helpers/mailbox';
import { runNode } from '../helpers/nodeHarness';
import { startProxy, type SilentProxy } from '../../tools/proxy';
import { credentialData, sandboxInfo } from '../helpers/sandbox';
import { message } from '../../tools/triggerHarness';

const agent = 'agent@agentmail.test';
const node = new AgentMail();

const getFolders = (items: number, inbox: (i: number) => string = () => '', extra = {}) =>
	runNode({
		node,
		credentials: credentialData(agent),
		parameters: (i) => ({ resource: 'folder', operation: 'getMany', inbox: inbox(i) }),
		items: Array.from({ length: items }, () => ({ json: {} })),
		...extra,
	});

it('lists every folder with total, unread, UIDNEXT and UIDVALIDITY; Drafts says AgentMail keeps none', async () => {
	const { folder, uids, uidValidity } = await seedFolder(agent, 'Counts', [
		{ raw: message('one').raw, flags: ['\\Seen'] },
		{ raw: message('two').raw },
		{ raw: message('three').raw },
	]);
	const { output } = await getFolders(1);
	const folders = output[0].map((o) => o.json);
	expect(folders.map((f) => f.path)).toEqual(
		expect.arrayContaining(['INBOX', 'Sent', 'Trash', 'Spam', 'Drafts', folder]),
	);
	expect(folders.find((f) => f.path === folder)).toEqual({
		inbox: agent,
		path: folder,
		name: folder,
		specialUse: null,
		total: 3,
		unread: 2,
		uidNext: uids[2] + 1,
		uidValidity,
	});
	expect(folders.find((f) => f.path === 'Trash')?.specialUse).toBe('\\Trash');
	expect(folders.find((f) => f.path === 'Drafts')?.note).toBe(DRAFTS_NOTE);
	expect(output[0].every((o) => (o.pairedItem as { item: number }).item === 0)).toBe(true);
});

it('each item lists the folders of the inbox it names; one connection per inbox for all items', async () => {
	const { folder } = await seedFolder('team@agentmail.test', 'TeamOnly', []);
	const inboxes = ['', 'team@agentmail.test', ''];
	const { output } = await getFolders(3, (i) => inboxes[i]);
	const byItem = [0, 1, 2].map((i) =>
		output[0].filter((o) => (o.pairedItem as { item: number }).item === i).map((o) => o.json),
	);
	expect(byItem[0].every((f) => f.inbox === agent)).toBe(true);
	expect(byItem[1].every((f) => f.inbox === 'team@agentmail.test')).toBe(true);
	expect(byItem[1].map((f) => f.path)).toContain(folder);
	expect(byItem[0].map((f) => f.path)).not.toContain(folder);
	expect(byItem[2].map((f) => f.path)).toEqual(byItem[0].map((f) => f.path));
});

it('an inbox the key may not open fails its item, naming the inbox, never the key; the others go on', async () => {
	const inboxes = ['other@agentmail.test', ''];
	const { output } = await getFolders(2, (i) => inboxes[i], { continueOnFail: true });
	const [refused, ...rest] = output[0];
	expect(refused.pairedItem).toEqual({ item: 0 });
	expect(refused.json.error).toMatch(
		/refused the login for other@agentmail\.test: the credential's API key may not open this inbox/,
	);
	expect(String(refused.json.error)).not.toContain(String(credentialData(agent).apiKey));
	expect(rest.length).toBeGreaterThan(3);
	expect(rest.every((o) => (o.pairedItem as { item: number }).item === 1)).toBe(true);
});

it('without Continue On Fail, a refused login fails the node', async () => {
	await expect(getFolders(1, () => 'other@agentmail.test')).rejects.toThrow(
		/refused the login for other@agentmail\.test/,
	);
});

describe('a connection that drops between items', () => {
	let proxy: SilentProxy;
	beforeAll(async () => {
		const { imap } = sandboxInfo();
		proxy = await startProxy(imap.host, imap.port);
	});
	afterAll(async () => await proxy.close());

	it('the next item opens a new connection; an item it broke says so', async () => {
		let dropped = false;
		const { output } = await runNode({
			node,
			credentials: credentialData(agent, { imapHost: '127.0.0.1', imapPort: proxy.port }),
			parameters: (i) => {
				// The connection of item 0 is cut as item 1 starts.
				if (i === 1 && !dropped) {
					dropped = true;
					proxy.dropExisting();
				}
				return { resource: 'folder', operation: 'getMany' };
			},
			items: [{ json: {} }, { json: {} }, { json: {} }],
			continueOnFail: true,
		});
		const byItem = (i: number) =>
			output[0].filter((o) => (o.pairedItem as { item: number }).item === i).map((o) => o.json);
		expect(byItem(0).map((f) => f.path)).toContain('INBOX');
		expect(byItem(2).map((f) => f.path)).toContain('INBOX');
		// Item 1 either found the connection gone and failed, or (if the close was seen first) reopened.
		const second = byItem(1);
		if (second[0]?.error !== undefined) {
			expect(second[0].error).toMatch(
				/The IMAP connection to agent@agentmail\.test failed during this item .* Run it again/,
			);
		} else {
			expect(second.map((f) => f.path)).toContain('INBOX');
		}
		expect(proxy.accepted).toBe(2);
	});
});
