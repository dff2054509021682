import {
	hasReplyWatcher,
	registerReplyWatcher,
} from '../../../nodes/shared/sendAndWait/replyWatchers';

describe('reply watchers', () => {
	it('knows a trigger by server, inbox (any case) and API key, until it ends', () => {
		const end = registerReplyWatcher('imap.agentmail.to', 'Agent@AgentMail.to', 'key-1');
		expect(hasReplyWatcher('IMAP.agentmail.to', 'agent@agentmail.to', 'key-1')).toBe(true);
		// Another key cannot unmask the question's token; another inbox or server sees other mail.
		expect(hasReplyWatcher('imap.agentmail.to', 'agent@agentmail.to', 'key-2')).toBe(false);
		expect(hasReplyWatcher('imap.agentmail.to', 'other@agentmail.to', 'key-1')).toBe(false);
		expect(hasReplyWatcher('imap.example.com', 'agent@agentmail.to', 'key-1')).toBe(false);
		end();
		expect(hasReplyWatcher('imap.agentmail.to', 'agent@agentmail.to', 'key-1')).toBe(false);
	});

	it('counts two triggers on the same inbox; ending one twice ends it once', () => {
		const first = registerReplyWatcher('h', 'a@b.c', 'k');
		const second = registerReplyWatcher('h', 'a@b.c', 'k');
		first();
		first();
		expect(hasReplyWatcher('h', 'a@b.c', 'k')).toBe(true);
		second();
		expect(hasReplyWatcher('h', 'a@b.c', 'k')).toBe(false);
	});
});
