/**
 * Inbox → Check Capabilities: one item saying what the inbox's servers announce, what the probes
 * found, and how each feature runs there, to paste into a bug report. Read-only on the server:
 * folders are examined, nothing is sent (the SMTP check logs in and quits).
 */
import { updateDisplayOptions, type IExecuteFunctions, type INodeProperties } from 'n8n-workflow';

import { capabilityReport } from '../../../shared/capabilities';
import { readImapFacts } from '../../../shared/imap/capabilities';
import type { InboxClient } from '../../../shared/imap/inbox';
import { readSmtpFacts } from '../../../shared/smtpCapabilities';
import type { ImapResult } from '../../helpers/interfaces';
import { readInboxes } from '../../helpers/inboxes';

const properties: INodeProperties[] = [
	{
		displayName:
			'Changes nothing in the inbox and sends nothing. The output has no API key: paste it into a bug report as it is.',
		name: 'capabilitiesNotice',
		type: 'notice',
		default: '',
	},
];

const displayOptions = { show: { resource: ['inbox'], operation: ['checkCapabilities'] } };

export const description = updateDisplayOptions(displayOptions, properties);

export async function execute(
	this: IExecuteFunctions,
	i: number,
	inbox: InboxClient,
): Promise<ImapResult> {
	// The IMAP connection is the runner's; the SMTP check needs the same inbox's settings.
	const connection = (await readInboxes(this, 'Nothing was changed.'))(i);
	const imap = await readImapFacts(inbox);
	const smtp = await readSmtpFacts(connection);
	return [{ json: capabilityReport(connection, imap, smtp, new Date()) as never }];
}
