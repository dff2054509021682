/**
 * The waiting node's side of Reply by Email: it reads the message the trigger pointed at over
 * its own IMAP connection (the pointer proves nothing), and takes it as the answer only when it
 * answers this question (its In-Reply-To or References hold the question's Message-ID) and
 * comes from an address the question was sent to.
 */
import type { AgentMailConnection } from '../connection';
import { withClient } from '../imap/connect';
import { flagsOf } from '../imap/messages';
import { parseAddresses } from '../mime/headers';
import type { ParsedMessage, ToItemOptions, MessageItem } from '../mime/item';
import { parseMessage } from '../mime/toItem';
import { decide } from './decision';
import type { ReplyPointer } from './replyHandOff';
import type { ResponseType } from './answer';

/** A reply over this is not read as an answer (a question's answer is rarely more). */
const MAX_REPLY_BYTES = 25 * 1024 * 1024;

/** What the waiting node knows of its question. */
export interface AskedQuestion {
	/** The question's Message-ID, with angle brackets. */
	messageId: string;
	/** To, CC and BCC as the node sends them (comma-separated lists). */
	recipients: string[];
	responseType: ResponseType;
	approveWords: string[];
	declineWords: string[];
}

export type ReplyVerdict =
	{ kind: 'answer'; data: Record<string, unknown> } | { kind: 'refused'; reason: string };

/** The pointer a POST carries, checked for shape; null when it is not one. */
export function readPointer(value: unknown): ReplyPointer | null {
	if (!value || typeof value !== 'object') return null;
	const { folder, uid, uidValidity } = value as Record<string, unknown>;
	if (typeof folder !== 'string' || !folder || folder.length > 1000) return null;
	if (typeof uid !== 'number' || !Number.isInteger(uid) || uid < 1) return null;
	if (typeof uidValidity !== 'string' || !/^\d{1,20}$/.test(uidValidity)) return null;
	return { folder, uid, uidValidity };
}

/** The message the pointer names, parsed as the trigger parses it; null when it is not there. */
export async function readReply(
	connection: AgentMailConnection,
	pointer: ReplyPointer,
	options: ToItemOptions,
): Promise<ParsedMessage | null> {
	return await withClient(connection, async (client) => {
		const box = await client.mailboxOpen(pointer.folder, { readOnly: true });
		// Renumbered since the trigger saw it: the UID may now name another message.
		if (String(box.uidValidity) !== pointer.uidValidity) return null;
		const sized = await client.fetchOne(String(pointer.uid), { size: true }, { uid: true });
		if (!sized || (sized.size ?? 0) > MAX_REPLY_BYTES) return null;
		const fetched = await client.fetchOne(
			String(pointer.uid),
			{ uid: true, flags: true, size: true, source: true },
			{ uid: true },
		);
		if (!fetched || !fetched.source) return null;
		const meta = {
			uid: fetched.uid,
			uidValidity: pointer.uidValidity,
			folder: pointer.folder,
			flags: flagsOf(fetched),
			size: fetched.size ?? fetched.source.length,
		};
		return await parseMessage(fetched.source, meta, options);
	});
}

/** Whether the reply answers the question and who sent it may answer; then the answer's data. */
export function judgeReply(
	reply: MessageItem,
	question: AskedQuestion,
	now = new Date(),
): ReplyVerdict {
	const asked = question.messageId.toLowerCase();
	const answers = [reply.inReplyTo, ...reply.references].some((id) => id?.toLowerCase() === asked);
	if (!answers) return { kind: 'refused', reason: 'it does not answer this question' };
	const sender = reply.from?.address.toLowerCase();
	const recipients = new Set(
		parseAddresses(question.recipients.filter((list) => list.trim())).map((a) =>
			a.address.toLowerCase(),
		),
	);
	if (!sender || !recipients.has(sender)) {
		return { kind: 'refused', reason: 'its sender is not among the question’s recipients' };
	}
	const text = reply.replyText;
	const respondedAt = now.toISOString();
	if (question.responseType !== 'approval') return { kind: 'answer', data: { text, respondedAt } };
	const approved = decide(text, question.approveWords, question.declineWords);
	if (approved !== undefined) return { kind: 'answer', data: { approved, text, respondedAt } };
	// No decision read: the text without `approved`, never a guess. n8n's AI Agent reads
	// `chatInput` as the reviewer's feedback on the tool call instead of a bare refusal.
	return { kind: 'answer', data: { text, chatInput: text, respondedAt } };
}
