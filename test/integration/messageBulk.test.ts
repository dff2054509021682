/**
 * Message → Get Many on a folder larger than one FETCH chunk and than Return All's cap for full
 * items: chunks keep the newest-first order, and Return All over the cap fails before reading
 * anything, saying what to do.
 */
import { AgentMail } from '../../nodes/AgentMail/AgentMail.node';
import {
	HEADER_FETCH_CHUNK,
	RETURN_ALL_CAP,
	SOURCE_FETCH_MESSAGES,
} from '../../nodes/shared/imap/messages';
import { mail, seedFolder } from '../helpers/mailbox';
import { runNode } from '../helpers/nodeHarness';
import { credentialData } from '../helpers/sandbox';

const agent = 'agent@agentmail.test';
const node = new AgentMail();
/** One more than Return All gives in full, and several header chunks. */
const COUNT = RETURN_ALL_CAP.full + 1;

let seeded: Awaited<ReturnType<typeof seedFolder>>;
beforeAll(async () => {
	const messages = Array.from({ length: COUNT }, (_, k) => ({
		raw: mail(k, 'Jane <jane@customer.example>', `Bulk ${k + 1}`, `Body ${k + 1}`).raw,
	}));
	seeded = await seedFolder(agent, 'Bulk', messages);
}, 120_000);

const getMany = (parameters: Record<string, unknown>) =>
	runNode({
		node,
		credentials: credentialData(agent),
		parameters: { resource: 'message', operation: 'getMany', folder: seeded.folder, ...parameters },
		items: [{ json: {} }],
	});

it('Return All with headers only gives every message, newest first, across FETCH chunks', async () => {
	expect(COUNT).toBeGreaterThan(HEADER_FETCH_CHUNK * 2);
	const { output } = await getMany({ returnAll: true, format: 'headers' });
	expect(output[0].map((o) => o.json.uid)).toEqual([...seeded.uids].reverse());
});

it('full items across source chunks keep the order', async () => {
	const limit = SOURCE_FETCH_MESSAGES * 2 + 3;
	const { output } = await getMany({ limit });
	expect(output[0].map((o) => o.json.subject)).toEqual(
		Array.from({ length: limit }, (_, k) => `Bulk ${COUNT - k}`),
	);
});

it('Return All of full items over the cap fails with what to do, returning nothing', async () => {
	await expect(getMany({ returnAll: true })).rejects.toThrow(
		`The search matched ${COUNT} messages in "${seeded.folder}", more than the ${RETURN_ALL_CAP.full} Return All gives`,
	);
});
