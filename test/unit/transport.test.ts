/**
 * The action node's IMAP connections (nodes/AgentMail/transport): one per inbox for a whole
 * execution, reopened only when it has ended, a refused login not tried again, and every one
 * logged out at the end. The client is a fake; the real server is in the integration tests.
 */
import type { ImapFlow } from 'imapflow';

import { ImapClients } from '../../nodes/AgentMail/transport';
import { parseConnection } from '../../nodes/shared/connection';
import { CredentialError } from '../../nodes/shared/errors';

class FakeClient {
	usable = true;
	loggedOut = false;
	capabilities = new Map<string, boolean>();
	constructor(
		readonly user: string,
		private readonly refuse: boolean,
	) {}
	on(): this {
		return this;
	}
	async connect(): Promise<void> {
		if (this.refuse) {
			throw Object.assign(new Error('Authentication failed'), { authenticationFailed: true });
		}
	}
	async logout(): Promise<void> {
		this.loggedOut = true;
		this.usable = false;
	}
	close(): void {
		this.usable = false;
	}
}

function setup(refused: string[] = []) {
	const made: FakeClient[] = [];
	const clients = new ImapClients((options) => {
		const user = String(options.auth?.user);
		const client = new FakeClient(user, refused.includes(user));
		made.push(client);
		return client as unknown as ImapFlow;
	});
	const base = parseConnection({ email: 'agent@agentmail.test', apiKey: 'am_secret' });
	const inbox = (email: string) => ({ ...base, email });
	return { clients, made, inbox };
}

it('opens one connection per inbox, however many items use it; logs every one out at the end', async () => {
	const { clients, made, inbox } = setup();
	const first = await clients.get(inbox('agent@agentmail.test'));
	expect(await clients.get(inbox('Agent@AgentMail.test'))).toBe(first);
	await clients.get(inbox('team@agentmail.test'));
	expect(made.map((c) => c.user)).toEqual(['agent@agentmail.test', 'team@agentmail.test']);
	await clients.closeAll();
	expect(made.every((c) => c.loggedOut)).toBe(true);
});

it('opens a new connection when the previous one has ended', async () => {
	const { clients, made, inbox } = setup();
	await clients.get(inbox('agent@agentmail.test'));
	made[0].usable = false;
	await clients.get(inbox('agent@agentmail.test'));
	expect(made).toHaveLength(2);
});

it('a refused login fails every item of that inbox without logging in again', async () => {
	const { clients, made, inbox } = setup(['other@agentmail.test']);
	const refused = inbox('other@agentmail.test');
	await expect(clients.get(refused)).rejects.toThrow(CredentialError);
	await expect(clients.get(refused)).rejects.toThrow(/refused the login/);
	expect(made).toHaveLength(1);
	await clients.closeAll();
});

it('opens nothing when nothing asks for a connection', async () => {
	const { clients, made } = setup();
	await clients.closeAll();
	expect(made).toHaveLength(0);
});
