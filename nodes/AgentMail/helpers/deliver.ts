/** Sends (or, when only validating, describes) a composed message and shapes the output item. */
import type { IDataObject } from 'n8n-workflow';

import type { ComposedMessage } from '../../shared/smtp/compose';
import type { OperationContext } from './interfaces';

/**
 * @param onBodyRead called once the connection has read the message body (see
 * SmtpSession.send); never when only validating.
 */
export async function deliver(
	composed: ComposedMessage,
	context: OperationContext,
	validateOnly: boolean,
	onBodyRead?: () => void,
): Promise<IDataObject> {
	const threading = {
		subject: composed.subject,
		to: composed.to.map((m) => m.address),
		cc: composed.cc.map((m) => m.address),
		bcc: composed.bcc.map((m) => m.address),
		inReplyTo: composed.inReplyTo ?? null,
		// What a follow-up in this thread puts in its own References.
		references: [...composed.references],
	};
	if (validateOnly) {
		return {
			validateOnly: true,
			sent: false,
			messageId: composed.messageId,
			size: composed.size,
			envelope: composed.envelope,
			...threading,
		};
	}
	const info = await context.session.send(composed, onBodyRead);
	return {
		sent: true,
		messageId: info.messageId,
		accepted: info.accepted,
		rejected: info.rejected,
		...(info.rejectedReasons.length ? { rejectedReasons: info.rejectedReasons } : {}),
		size: info.size,
		response: info.response,
		envelope: composed.envelope,
		...threading,
	};
}
