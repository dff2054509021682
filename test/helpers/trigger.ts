/**
 * What the AgentMail Trigger's integration tests (test/integration/triggerDelivery, -Faults,
 * -HandOver and -Inboxes) share: triggers on the agent's inbox that are closed after each test,
 * and what they emitted and what the mailbox holds, read the way those tests compare them.
 */
import { credentialData, listMessages } from './sandbox';
import {
	activateTrigger,
	type ActivateOptions,
	type ActiveTrigger,
} from '../../tools/triggerHarness';

export const agent = 'agent@agentmail.test';

/**
 * Gives the calling test file an `activate`: activates a trigger with the agent's credential
 * (unless the options name others) and closes it after the test, whatever the test did.
 */
export function useTriggers(): (options?: Partial<ActivateOptions>) => Promise<ActiveTrigger> {
	const open: ActiveTrigger[] = [];
	afterEach(async () => {
		for (const trigger of open.splice(0)) await trigger.close();
	});
	return async (options = {}) => {
		const trigger = await activateTrigger({ credentials: credentialData(agent), ...options });
		open.push(trigger);
		return trigger;
	};
}

/** The subjects of everything the trigger emitted, in order. */
export const subjects = (trigger: ActiveTrigger) =>
	trigger.items().map((item) => item.json.subject as string);

/** The values that stand more than once (each repeat once more). */
export const duplicates = (values: string[]) => values.filter((v, i) => values.indexOf(v) !== i);

/** The flags of the message with this subject in the agent's INBOX, if there is one. */
export async function flagsOf(subject: string): Promise<string[] | undefined> {
	return (await listMessages(agent, 'INBOX')).find((m) => m.subject === subject)?.flags;
}
