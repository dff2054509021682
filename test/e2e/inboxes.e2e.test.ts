/**
 * End to end, one credential for two inboxes in a real n8n: two auto-reply workflows on the
 * same AgentMail credential (agent@'s key, which also opens team@), one watching and answering
 * from the credential's inbox, the other with Inbox Address team@ on its trigger and its Reply.
 * Each mail is answered once, in its thread, from the inbox it was sent to.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { randomBytes } from 'node:crypto';

import { simpleParser } from 'mailparser';

import { waitForTriggerStart } from '../../tools/n8n/demo';
import type { WorkflowInput } from '../../tools/n8n/server';
import { deliver, listMessages, useOwnSandbox } from '../helpers/sandbox';
import {
	AGENT,
	makeOwner,
	OUTCOME_TIMEOUT_MS,
	PEER,
	peerMailHeaders,
	setUpN8n,
	useOwnN8n,
	waitForOutcome,
} from './support';

const TEST_TIMEOUT_MS = 3 * 60_000;
/** After both replies, how long nothing more may arrive. */
const QUIET_PERIOD_MS = 5_000;
/** The inbox that opens with agent@'s key (tools/sandbox/inboxes.ts). */
const TEAM = 'team@agentmail.test';

const PACKAGE = 'n8n-nodes-agentmail-inbox';
const TRIGGER_NODE = 'AgentMail Trigger';

useOwnSandbox();

/** Trigger → Reply, both on `inbox` ('' for the credential's own). */
function autoReply(
	name: string,
	credential: { id: string; name: string },
	inbox: string,
): WorkflowInput {
	const credentials = { agentMailInboxApi: credential };
	return {
		name,
		nodes: [
			{
				id: `${randomBytes(4).toString('hex')}-0000-4000-8000-000000000001`,
				name: TRIGGER_NODE,
				type: `${PACKAGE}.agentMailTrigger`,
				typeVersion: 1,
				position: [0, 0],
				parameters: { inbox, folder: 'INBOX', afterRun: 'markRead' },
				credentials,
			},
			{
				id: `${randomBytes(4).toString('hex')}-0000-4000-8000-000000000002`,
				name: 'Reply',
				type: `${PACKAGE}.agentMail`,
				typeVersion: 1,
				position: [300, 0],
				parameters: {
					resource: 'message',
					operation: 'reply',
					inbox,
					source: 'inputItem',
					emailFormat: 'text',
					text: `Answered by ${inbox || 'the credential’s inbox'}`,
				},
				credentials,
			},
		],
		connections: { [TRIGGER_NODE]: { main: [[{ node: 'Reply', type: 'main', index: 0 }]] } },
	};
}

describe('one credential, two inboxes, in n8n', () => {
	const n8n = useOwnN8n('agentmail-n8n-inboxes-');

	it(
		'each inbox’s mail is answered once, in its thread, from that inbox',
		async () => {
			const client = n8n();
			const credential = await setUpN8n(client, makeOwner(), AGENT);
			for (const [name, inbox] of [
				['Agent inbox', ''],
				['Team inbox', TEAM],
			]) {
				const id = await client.createWorkflow(autoReply(name, credential, inbox));
				await client.activateWorkflow(id);
				await waitForTriggerStart(client, id, TRIGGER_NODE, OUTCOME_TIMEOUT_MS);
			}
			const sent: Record<string, string> = {};
			for (const to of [AGENT, TEAM]) {
				const messageId = `<e2e.${randomBytes(8).toString('hex')}@agentmail.test>`;
				sent[to] = messageId;
				const headers = peerMailHeaders(`For ${to}`, messageId).map((line) =>
					line.startsWith('To:') ? `To: ${to}` : line,
				);
				await deliver(to, [...headers, 'Content-Type: text/plain', '', 'Hello.', ''].join('\r\n'));
			}
			const answers = async () => {
				const out: Array<{ from?: string; inReplyTo?: string; text?: string }> = [];
				for (const message of await listMessages(PEER, 'INBOX')) {
					const parsed = await simpleParser(message.source);
					out.push({
						from: parsed.from?.value[0]?.address,
						inReplyTo: parsed.inReplyTo,
						text: parsed.text?.trim(),
					});
				}
				return out;
			};
			await waitForOutcome('both replies', async () =>
				(await answers()).length >= 2 ? true : undefined,
			);
			await sleep(QUIET_PERIOD_MS);
			const got = await answers();
			expect(got).toHaveLength(2);
			expect(got).toEqual(
				expect.arrayContaining([
					{ from: AGENT, inReplyTo: sent[AGENT], text: 'Answered by the credential’s inbox' },
					{ from: TEAM, inReplyTo: sent[TEAM], text: `Answered by ${TEAM}` },
				]),
			);
			// Each original marked read in its own inbox after its run.
			for (const inbox of [AGENT, TEAM]) {
				await waitForOutcome(`the mail to ${inbox} marked read`, async () => {
					const original = (await listMessages(inbox, 'INBOX')).find(
						(m) => m.messageId === sent[inbox],
					);
					return original?.flags.includes('\\Seen') ? true : undefined;
				});
			}
		},
		TEST_TIMEOUT_MS,
	);
});
