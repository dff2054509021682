/** Parameters both nodes show the same way. */
import type { INodeProperties } from 'n8n-workflow';

/** Inbox Address: another inbox the credential's key may open; `description` says what for. */
export function inboxAddressProperty(description: string): INodeProperties {
	return {
		displayName: 'Inbox Address',
		name: 'inbox',
		type: 'string',
		default: '',
		placeholder: 'support@agentmail.to',
		description,
	};
}
