/**
 * The AgentMail Trigger's Inbox Address, against a sandbox of its own (real Dovecot): one
 * credential watching several inboxes, each keeping its place; an inbox the key may not open,
 * or one that is not an address, fails the activation saying so.
 */
import type { IDataObject } from 'n8n-workflow';

import { credentialData, deliver, useOwnSandbox } from '../helpers/sandbox';
import { agent, subjects, useTriggers } from '../helpers/trigger';
import { message } from '../../tools/triggerHarness';
import { waitFor } from '../../tools/wait';

// A sandbox of its own: the tests count every message the agent's and the team's inboxes emit.
useOwnSandbox();
const activate = useTriggers();

describe('Inbox Address: one credential, several inboxes', () => {
	const team = 'team@agentmail.test';

	it('watches the inbox it names, with the credential’s key', async () => {
		const trigger = await activate({ parameters: { inbox: team, afterRun: 'nothing' } });
		await deliver(agent, message('to the agent, not watched').raw);
		await deliver(team, message('to the team inbox').raw);
		await waitFor('the team inbox message', () => trigger.items().length === 1);
		await new Promise((resolve) => setTimeout(resolve, 500));
		expect(subjects(trigger)).toEqual(['to the team inbox']);
	});

	it('pointed at another inbox and back: each keeps its place, nothing replayed or skipped', async () => {
		const staticData: IDataObject = {};
		const parameters = { afterRun: 'nothing' };
		// Mail already in the agent's inbox before it is first watched: old, never to be emitted.
		await deliver(agent, message('agent, there before 1').raw);
		await deliver(agent, message('agent, there before 2').raw);
		const onTeam = await activate({ staticData, parameters: { ...parameters, inbox: team } });
		await deliver(team, message('team before the switch').raw);
		await waitFor('the first team message', () => onTeam.items().length === 1);
		await onTeam.close();
		// Now the credential's own inbox; meanwhile mail reaches the team inbox.
		const onAgent = await activate({ staticData, parameters });
		await deliver(team, message('team while watching the agent').raw);
		await deliver(agent, message('agent while watched').raw);
		await waitFor('the agent message', () => onAgent.items().length === 1);
		await onAgent.close();
		const back = await activate({ staticData, parameters: { ...parameters, inbox: team } });
		await waitFor('the team mail that waited', () => back.items().length === 1);
		await new Promise((resolve) => setTimeout(resolve, 500));
		expect(subjects(onAgent)).toEqual(['agent while watched']);
		expect(subjects(back)).toEqual(['team while watching the agent']);
	});

	it('an inbox the key may not open fails the activation naming the inbox, never the key', async () => {
		const other = 'other@agentmail.test';
		const failure = await activate({ parameters: { inbox: other } }).then(
			() => null,
			(error: Error) => error,
		);
		expect(failure?.message).toMatch(
			new RegExp(
				`refused the login for ${other}: the credential's API key may not open this inbox`,
			),
		);
		expect(failure?.message).not.toContain(String(credentialData(agent).apiKey));
	});

	it('an Inbox Address that is not an address fails the activation with what to enter', async () => {
		const failure = await activate({ parameters: { inbox: 'team inbox' } }).then(
			() => null,
			(error: Error) => error,
		);
		expect(failure?.message).toMatch(/Inbox Address "team inbox" is not an email address/);
	});
});
