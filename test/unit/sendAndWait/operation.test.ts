import { checkPublicAddress } from '../../../nodes/AgentMail/actions/message/sendAndWait.operation';

it('refuses to ask in queue mode without WEBHOOK_URL, whose links would point at the worker', () => {
	expect(() => checkPublicAddress({ EXECUTIONS_MODE: 'queue' })).toThrow(
		'n8n runs in queue mode without WEBHOOK_URL',
	);
	expect(() => checkPublicAddress({ EXECUTIONS_MODE: 'queue', WEBHOOK_URL: ' ' })).toThrow(
		'Set WEBHOOK_URL',
	);
	expect(() =>
		checkPublicAddress({ EXECUTIONS_MODE: 'queue', WEBHOOK_URL: 'https://n8n.example/' }),
	).not.toThrow();
	expect(() => checkPublicAddress({ EXECUTIONS_MODE: 'regular' })).not.toThrow();
	expect(() => checkPublicAddress({})).not.toThrow();
});
