import type { ICredentialType, INodeProperties } from 'n8n-workflow';

import { AGENTMAIL_DEFAULTS } from '../nodes/shared/connection';

/**
 * One AgentMail inbox over IMAP and SMTP: the inbox address is the login, an API key the
 * password. Hosts and ports default to AgentMail's; both protocols always use TLS.
 *
 * Tested by `agentMailInboxConnectionTest` (nodes/shared/methods/credentialTest.ts), which every
 * node using this credential declares.
 */
export class AgentMailInboxApi implements ICredentialType {
	name = 'agentMailInboxApi';

	// n8n's lint wants credential names to end in "API"; the key is an AgentMail API key.
	displayName = 'AgentMail Inbox (IMAP/SMTP) API';

	icon = {
		light: 'file:../icons/agentmail.svg',
		dark: 'file:../icons/agentmail.dark.svg',
	} as const;

	documentationUrl = 'https://www.npmjs.com/package/n8n-nodes-agentmail-inbox#credential';

	properties: INodeProperties[] = [
		{
			displayName: 'Inbox Address',
			name: 'email',
			type: 'string',
			placeholder: 'myinbox@agentmail.to',
			default: '',
			required: true,
			description:
				'The inbox’s full email address (AgentMail Console → Inboxes → Inbox ID). It is the IMAP and SMTP login, and the From of every message sent.',
		},
		{
			displayName: 'API Key',
			name: 'apiKey',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
			description: 'An AgentMail API key (AgentMail Console → API Keys), used as the password',
		},
		{
			displayName: 'IMAP Host',
			name: 'imapHost',
			type: 'string',
			default: AGENTMAIL_DEFAULTS.imapHost,
		},
		{
			displayName: 'IMAP Port',
			name: 'imapPort',
			type: 'number',
			default: AGENTMAIL_DEFAULTS.imapPort,
			description: 'IMAP always uses TLS from the first byte (IMAPS)',
		},
		{
			displayName: 'SMTP Host',
			name: 'smtpHost',
			type: 'string',
			default: AGENTMAIL_DEFAULTS.smtpHost,
		},
		{
			displayName: 'SMTP Security',
			name: 'smtpSecurity',
			type: 'options',
			options: [
				{
					name: 'SSL/TLS (465)',
					value: 'ssl',
					description: 'TLS from the first byte',
				},
				{
					name: 'STARTTLS (587)',
					value: 'starttls',
					description: 'Starts plain and must upgrade to TLS before logging in, or nothing is sent',
				},
			],
			default: 'ssl',
		},
		{
			displayName: 'SMTP Port',
			name: 'smtpPort',
			type: 'number',
			default: AGENTMAIL_DEFAULTS.smtpSslPort,
			displayOptions: { show: { smtpSecurity: ['ssl'] } },
		},
		{
			displayName: 'SMTP Port',
			name: 'smtpStartTlsPort',
			type: 'number',
			default: AGENTMAIL_DEFAULTS.smtpStartTlsPort,
			displayOptions: { show: { smtpSecurity: ['starttls'] } },
		},
		{
			displayName: 'Custom CA Certificate',
			name: 'trustedCa',
			type: 'string',
			typeOptions: { rows: 4 },
			default: '',
			placeholder: '-----BEGIN CERTIFICATE-----',
			description:
				'Only for a server whose certificate is signed by a private CA (PEM). Trusted in addition to the system’s CAs. Leave empty for AgentMail.',
		},
		{
			displayName: 'Allow Self-Signed Certificates',
			name: 'allowSelfSigned',
			type: 'boolean',
			default: false,
			description:
				'Whether to connect even when the server’s certificate cannot be verified. The connection stays encrypted but anyone in between could read the API key: for test servers only.',
		},
	];
}
