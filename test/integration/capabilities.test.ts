/**
 * Inbox → Check Capabilities on four servers (a sandbox of this file's own per profile,
 * tools/sandbox/profiles.ts): what it reports, that the verdicts are what the features really do
 * there (each feature is run after the report and must succeed, fall back or refuse as the
 * report said), and that the check changed nothing in the inbox.
 */
import { randomUUID } from 'node:crypto';

import { AgentMail } from '../../nodes/AgentMail/AgentMail.node';
import {
	FEATURES,
	type Feature,
	type FeatureVerdict,
	type Verdict,
} from '../../nodes/shared/capabilities';
import type { SearchSupport } from '../../nodes/shared/imap/searchProbe';
import { MAX_HITS_PER_KEY } from '../../nodes/shared/smtp/sendOnce';
import { seedFolder } from '../helpers/mailbox';
import { runNode } from '../helpers/nodeHarness';
import { apiKey, credentialData, deliver, imapClient, useOwnSandbox } from '../helpers/sandbox';
import type { SandboxProfile } from '../../tools/sandbox/profiles';

const agent = 'agent@agentmail.test';
const peer = 'peer@agentmail.test';
const node = new AgentMail();

/** Every feature running fully: what the profiles take away from. */
const ALL_FULL = Object.fromEntries(Object.keys(FEATURES).map((f) => [f, 'full'])) as Record<
	Feature,
	Verdict
>;
/** What a server without HEADER search (refused or ignored) changes. */
const NO_HEADER_SEARCH: Partial<Record<Feature, Verdict>> = {
	sendOnce: 'degraded',
	threadGet: 'degraded',
	getManyFilters: 'degraded',
};

/** What each profile is known to support (tools/sandbox/profiles.ts), as the report must say it. */
const EXPECTED: Record<
	'dovecot' | 'minimal' | 'search-subset' | 'search-ignore',
	{ search: SearchSupport; sentFoundBy: string; verdicts: Record<Feature, Verdict> }
> = {
	dovecot: { search: 'answered', sentFoundBy: 'special-use', verdicts: ALL_FULL },
	minimal: {
		search: 'answered',
		sentFoundBy: 'name',
		verdicts: {
			...ALL_FULL,
			trigger: 'degraded',
			triggerAfterRunMove: 'unavailable',
			move: 'unavailable',
			delete: 'unavailable',
			deletePermanently: 'unavailable',
		},
	},
	'search-subset': {
		search: 'refused',
		sentFoundBy: 'special-use',
		verdicts: { ...ALL_FULL, ...NO_HEADER_SEARCH },
	},
	'search-ignore': {
		search: 'ignored',
		sentFoundBy: 'special-use',
		verdicts: { ...ALL_FULL, ...NO_HEADER_SEARCH },
	},
};

/** The parts of the report the tests read. */
interface Report {
	inbox: string;
	summary: string[];
	features: Record<Feature, FeatureVerdict>;
	imap: { capabilities: string[]; sentFolder: unknown; search: unknown };
	smtp: { login: string; extensions: string[] };
}

const run = (parameters: Record<string, unknown>, items: Array<Record<string, unknown>> = [{}]) =>
	runNode({
		node,
		credentials: credentialData(agent),
		parameters: { resource: 'message', ...parameters },
		items: items.map((json) => ({ json: json as never })),
	});

const message = (subject: string, headers: string[] = [], text = `Text of ${subject}.`) =>
	[
		`From: Peer <${peer}>`,
		`To: ${agent}`,
		`Subject: ${subject}`,
		`Message-ID: <${randomUUID()}@outside.example>`,
		`Date: ${new Date().toUTCString()}`,
		...headers,
		'',
		text,
		'',
	].join('\r\n');

/** Every folder's counts and every message's flags: what a change on the server would alter. */
async function inboxState(): Promise<string> {
	const client = await imapClient(agent);
	try {
		const state: Record<string, unknown> = {};
		for (const folder of await client.list()) {
			const status = await client.status(folder.path, {
				messages: true,
				unseen: true,
				uidNext: true,
			});
			const box = await client.mailboxOpen(folder.path, { readOnly: true });
			const flags = box.exists
				? (await client.fetchAll('1:*', { uid: true, flags: true })).map(
						(m) => `${m.uid}:${[...(m.flags ?? [])].sort().join(' ')}`,
					)
				: [];
			state[folder.path] = { ...status, path: undefined, flags };
		}
		return JSON.stringify(state);
	} finally {
		await client.logout();
	}
}

/** Whether running the feature succeeded; a refusal's message is kept for the assertion. */
async function outcome(job: Promise<unknown>): Promise<'ran' | string> {
	return await job.then(
		() => 'ran',
		(error: Error) => `refused: ${error.message}`,
	);
}

/** A feature reported as running (fully or degraded) must run; one reported unavailable must refuse. */
function expectRuns(verdict: FeatureVerdict, result: string): void {
	if (verdict.verdict === 'unavailable') expect(result).toMatch(/^refused: /);
	else expect(result).toBe('ran');
}

describe.each(Object.keys(EXPECTED) as Array<keyof typeof EXPECTED>)(
	'the %s profile',
	(profile) => {
		const sandbox = useOwnSandbox(profile as SandboxProfile);
		const expected = EXPECTED[profile];
		const tag = randomUUID().slice(0, 8);
		// Mail in INBOX and Sent: the probes use what is there.
		beforeAll(async () => {
			await deliver(agent, message(`Probe ${tag}`));
			const client = await imapClient(agent);
			try {
				// More than an exact search could return: an answer with all of Sent reads as ignored.
				for (let k = 0; k <= MAX_HITS_PER_KEY; k++) {
					await client.append('Sent', message(`Sent ${k} ${tag}`), ['\\Seen']);
				}
			} finally {
				await client.logout();
			}
		});

		it('reports what the server supports, in one item without the key, and changes nothing', async () => {
			expect(sandbox().info.profile).toBe(profile);
			const before = await inboxState();
			const { output } = await run({ resource: 'inbox', operation: 'checkCapabilities' });
			expect(await inboxState()).toBe(before);
			expect(output[0]).toHaveLength(1);
			const report = output[0][0].json as unknown as Report;
			expect(JSON.stringify(report)).not.toContain(apiKey(agent));
			expect(report.inbox).toBe(agent);
			expect(report.imap.capabilities.includes('IDLE')).toBe(profile !== 'minimal');
			expect(report.imap.sentFolder).toEqual({ path: 'Sent', foundBy: expected.sentFoundBy });
			expect(report.imap.search).toMatchObject({
				HEADER: expected.search,
				BODY: expected.search,
				TEXT: expected.search,
			});
			expect(report.smtp).toMatchObject({ login: 'ok' });
			expect(report.smtp.extensions).toEqual(expect.arrayContaining(['AUTH']));
			const verdicts = Object.fromEntries(
				Object.entries(report.features as Record<Feature, FeatureVerdict>).map(([k, v]) => [
					k,
					v.verdict,
				]),
			);
			expect(verdicts).toEqual(expected.verdicts);
			expect(report.summary).toHaveLength(Object.keys(expected.verdicts).length);
		});

		it('each verdict is what the feature then does', async () => {
			const { output } = await run({ resource: 'inbox', operation: 'checkCapabilities' });
			const features = output[0][0].json.features as unknown as Record<Feature, FeatureVerdict>;
			const { folder, uids, uidValidity } = await seedFolder(
				agent,
				'Caps',
				[
					message(`Ticket ${tag}`, [`X-Ticket: T-${tag}`], `Body word alpha${tag}`),
					message(`Other ${tag}`),
					message(`Third ${tag}`),
				].map((raw) => ({ raw })),
			);
			const item = (k: number) => ({ uid: uids[k], uidValidity, folder });
			expectRuns(
				features.move,
				await outcome(run({ operation: 'move', destination: 'Spam' }, [item(0)])),
			);
			expectRuns(features.delete, await outcome(run({ operation: 'delete' }, [item(1)])));
			expectRuns(
				features.deletePermanently,
				await outcome(run({ operation: 'delete', permanent: true }, [item(2)])),
			);

			// Send Once: searched by the server, or the newest headers of Sent read instead.
			const reply = await run({ operation: 'reply', source: 'inputItem', text: 'Answer' }, [
				{ messageId: `<q.${tag}@outside.example>`, subject: 'Question', from: { address: peer } },
			]);
			expect(reply.output[0][0].json.sendOnceCheck).toBe(
				features.sendOnce.verdict === 'full' ? 'server-search' : 'recent-headers',
			);

			// Get Many in a folder of its own: a header filter and Body Contains.
			const many = await seedFolder(agent, 'CapsMany', [
				{ raw: message(`Match ${tag}`, [`X-Ticket: T-${tag}`], `Body word beta${tag}`) },
				{ raw: message(`No match ${tag}`) },
			]);
			const getMany = (filters: Record<string, unknown>) =>
				outcome(
					run({
						operation: 'getMany',
						folder: many.folder,
						returnAll: true,
						format: 'headers',
						filters,
					}).then(({ output: found }) => {
						if (found[0].length !== 1) throw new Error(`${found[0].length} messages`);
					}),
				);
			const byHeader = await getMany({ headerName: 'X-Ticket', headerValue: `T-${tag}` });
			const byBody = await getMany({ text: `beta${tag}` });
			if (features.getManyFilters.verdict === 'full') {
				expect([byHeader, byBody]).toEqual(['ran', 'ran']);
			} else if (expected.search === 'refused') {
				// Each filter the server lacks fails, naming it, as the verdict says.
				expect(features.getManyFilters.how).toMatch(/fail with an error naming the filter/);
				expect(byHeader).toMatch(/refused: .*Header Name "x-ticket"/);
				expect(byBody).toMatch(/refused: .*Body Contains/);
			} else {
				// Header filters are checked here; Body Contains, which cannot be, fails naming it.
				expect(features.getManyFilters.how).toMatch(/Body Contains fails with an error naming it/);
				expect(byHeader).toBe('ran');
				expect(byBody).toMatch(/refused: .*ignores IMAP SEARCH BODY .*Remove Body Contains/);
			}
		});
	},
);
