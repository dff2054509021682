/**
 * Which inboxes an active AgentMail Trigger watches in this n8n process, and with which API
 * key (a trigger with another key cannot unmask the question's token), so that Send and Wait
 * can refuse to ask for a reply by email nobody would pick up. Kept on globalThis: n8n may load
 * the trigger's and the action node's files as separate module instances.
 */
import { createHash } from 'node:crypto';

/** The process-wide registry's key on globalThis. */
const REGISTRY = Symbol.for('n8n-nodes-agentmail-inbox.replyWatchers');

type Registry = Map<string, number>;

function registry(): Registry {
	const holder = globalThis as unknown as Record<symbol, Registry | undefined>;
	holder[REGISTRY] ??= new Map();
	return holder[REGISTRY];
}

/** One entry per server, inbox and key; the key itself is kept only as a hash. */
function keyOf(imapHost: string, inbox: string, apiKey: string): string {
	const fingerprint = createHash('sha256').update(apiKey).digest('hex');
	return `${imapHost.trim().toLowerCase()}|${inbox.trim().toLowerCase()}|${fingerprint}`;
}

/**
 * Records a trigger watching `inbox`'s INBOX on `imapHost` with `apiKey`; the returned function
 * ends it.
 */
export function registerReplyWatcher(imapHost: string, inbox: string, apiKey: string): () => void {
	const key = keyOf(imapHost, inbox, apiKey);
	const map = registry();
	map.set(key, (map.get(key) ?? 0) + 1);
	let ended = false;
	return () => {
		if (ended) return;
		ended = true;
		const left = (map.get(key) ?? 1) - 1;
		if (left > 0) map.set(key, left);
		else map.delete(key);
	};
}

/** Whether an active trigger in this process watches `inbox`'s INBOX on `imapHost` with `apiKey`. */
export function hasReplyWatcher(imapHost: string, inbox: string, apiKey: string): boolean {
	return (registry().get(keyOf(imapHost, inbox, apiKey)) ?? 0) > 0;
}
