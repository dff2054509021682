/**
 * The contracts between the router, the two runners (smtpRun, imapRun) and the operations:
 * what an operation is given and what it gives back.
 */
import type { IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

import type { AgentMailConnection } from '../../shared/connection';
import type { InboxClient } from '../../shared/imap/inbox';
import type { ComposedMessage } from '../../shared/smtp/compose';
import type { SmtpSession } from '../../shared/smtp/session';
import type { SendOnceBatch } from './sendOnce';

/** What an IMAP operation gives for one item: zero or more output items. */
export type ImapResult = Array<{ json: IDataObject; binary?: INodeExecutionData['binary'] }>;

/** An operation that works the inbox over IMAP, one item at a time (helpers/imapRun.ts). */
export interface ImapOperation {
	execute(this: IExecuteFunctions, i: number, inbox: InboxClient): Promise<ImapResult>;
}

/** What every sending operation gets: the checked credential and the execution's SMTP session. */
export interface OperationContext {
	connection: AgentMailConnection;
	session: SmtpSession;
	/** Send once for this execution: the identity each item is sent with, if any. */
	sendOnce: SendOnceBatch;
	/** The inbox's IMAP connection of this execution, opened at the first call (Forward reads the original with it). */
	imap: () => Promise<InboxClient>;
}

/** A message built from one item, ready to go on the wire (or to be described, when validating). */
export interface PreparedMessage {
	composed: ComposedMessage;
	validateOnly: boolean;
	/** Fields the operation adds to the output item (Forward: what was forwarded). */
	output?: IDataObject;
}

/** An operation that sends: it builds one message per item (helpers/smtpRun.ts). */
export interface SmtpOperation {
	execute(this: IExecuteFunctions, i: number, context: OperationContext): Promise<PreparedMessage>;
	/** The item's send once key, or null when send once is off for it. */
	sendOnceKey?(this: IExecuteFunctions, i: number): string | null;
	/** Item `i`'s Message-ID when the operation sets its own (it then also names the send once copy). */
	messageIdOf?(
		this: IExecuteFunctions,
		i: number,
		connection: AgentMailConnection,
	): string | undefined;
	/** Send for the first item only (Send and Wait: one execution asks one question). */
	onlyFirstItem?: boolean;
	/** Read the sent items' copies back from Sent for their outputs (helpers/sentReadBack.ts). */
	readBackSent?: boolean;
}
