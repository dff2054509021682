import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** The sandbox's inboxes, in the order they appear in sandbox.json. */
export const INBOX_ADDRESSES = [
	'agent@agentmail.test',
	'peer@agentmail.test',
	'other@agentmail.test',
] as const;

/**
 * Inboxes that open with another inbox's API key, as the inboxes of one AgentMail organisation
 * share an organisation key: team@ opens with agent@'s key (agent@'s key opens both), while
 * peer@ and other@ have keys of their own, as keys scoped to one inbox.
 */
export const SHARED_KEY_INBOXES = { 'team@agentmail.test': 'agent@agentmail.test' } as const;

/**
 * Many more inboxes that open with one sandbox inbox's key, as the inboxes an organisation
 * creates by the dozen (the scale benchmark): `<prefix>001@agentmail.test` … up to `count`.
 */
export interface ExtraInboxes {
	prefix: string;
	count: number;
	/** The sandbox inbox whose API key opens them. */
	keyOf: (typeof INBOX_ADDRESSES)[number];
}

/** The addresses of a set of extra inboxes, in order. */
export function extraInboxAddresses({
	prefix,
	count,
}: Pick<ExtraInboxes, 'prefix' | 'count'>): string[] {
	return Array.from(
		{ length: count },
		(_, i) => `${prefix}${String(i + 1).padStart(3, '0')}@agentmail.test`,
	);
}

/** An inbox and its API key (the IMAP/SMTP password). */
export interface Inbox {
	address: string;
	apiKey: string;
}

/** AgentMail-style key: `am_` and 32 hex digits. */
const API_KEY_PATTERN = /^am_[0-9a-f]{32}$/;
/** Bytes of randomness in a key: 16 bytes are 32 hex digits. */
const API_KEY_RANDOM_BYTES = 16;

function newApiKey(): string {
	return `am_${randomBytes(API_KEY_RANDOM_BYTES).toString('hex')}`;
}

/**
 * Returns the inboxes with their API keys, made on the first start of a sandbox folder and kept
 * in `<dir>/inboxes.json` (mode 0600) so that a credential stored somewhere keeps working.
 */
export async function ensureInboxes(dir: string, extra: ExtraInboxes[] = []): Promise<Inbox[]> {
	const file = path.join(dir, 'inboxes.json');
	let stored: Record<string, unknown> = {};
	if (existsSync(file)) {
		const text = await readFile(file, 'utf8');
		let problem: string | undefined;
		try {
			stored = JSON.parse(text) as Record<string, unknown>;
		} catch (error) {
			problem = (error as Error).message;
		}
		if (problem)
			throw new Error(`${file} is not valid JSON (${problem}); delete it to get new keys`);
	}
	let changed = false;
	const inboxes = INBOX_ADDRESSES.map((address) => {
		const key = stored[address];
		if (typeof key === 'string' && API_KEY_PATTERN.test(key)) return { address, apiKey: key };
		// First start of this folder, or a key that was removed or mangled by hand.
		changed = true;
		return { address, apiKey: newApiKey() };
	});
	if (changed) {
		const content = Object.fromEntries(inboxes.map((inbox) => [inbox.address, inbox.apiKey]));
		const temporary = `${file}.${process.pid}.tmp`;
		await writeFile(temporary, JSON.stringify(content, null, '\t') + '\n', { mode: 0o600 });
		await rename(temporary, file);
	}
	const keyOf = (address: string) =>
		inboxes.find((inbox) => inbox.address === address)?.apiKey ?? newApiKey();
	const shared = Object.entries(SHARED_KEY_INBOXES).map(([address, owner]) => ({
		address,
		apiKey: keyOf(owner),
	}));
	const many = extra.flatMap((set) =>
		extraInboxAddresses(set).map((address) => ({ address, apiKey: keyOf(set.keyOf) })),
	);
	return [...inboxes, ...shared, ...many];
}
