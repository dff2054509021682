/**
 * AgentMail's sending rules, checked on the message before any connection is opened:
 * recipients (count, form), header values (no CR/LF injection), From, and encoded size.
 *
 * A message over AgentMail's recipient count or size is a {@link LimitError}, anything else
 * wrong with it an {@link InputError}; the message says what is wrong and what to do.
 */
import addressparser from 'nodemailer/lib/addressparser';

import { InputError, LimitError } from '../errors';
import { formatBytes } from '../format';

/** AgentMail: "Max recipients: 50 per email" (To, CC and BCC together). */
export const MAX_RECIPIENTS = 50;
/**
 * AgentMail: "Max message size: 10MB". Read as 10 MiB, the limit their SMTP server enforces on
 * the message as transmitted (base64 of attachments included).
 */
export const MAX_MESSAGE_BYTES = 10 * 1024 * 1024;

/** One mailbox: the address, and the display name if one was given. */
export interface Mailbox {
	address: string;
	name: string;
}

/** What users can put in a recipients field: a comma-separated string or a list. */
export type RecipientInput =
	string | Array<string | Partial<Mailbox>> | Partial<Mailbox> | undefined | null;

// Strict enough to catch typos and injection attempts, loose enough for real addresses
// (plus-addressing, subdomains, IDN in its Unicode form).
const ADDRESS_PATTERN = /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:".]+(\.[^\s@<>()[\]\\,;:".]+)+$/u;
const LINE_BREAK = /[\r\n]/;

/** Throws when a header value holds CR or LF, which would let it start new headers. */
export function assertHeaderValue(field: string, value: string): void {
	if (LINE_BREAK.test(value)) {
		throw new InputError(
			`${field} contains a line break, which is not allowed in an email header (it could inject other headers). Remove the line breaks from ${field}.`,
		);
	}
}

/** True for a syntactically valid single address. */
function isValidAddress(address: string): boolean {
	return ADDRESS_PATTERN.test(address);
}

/**
 * Parses a recipients field into mailboxes: `a@x.com, "Name" <b@y.com>` or a list of such
 * strings or of `{address, name}` objects (as the AgentMail Trigger emits them).
 *
 * @throws InputError naming the field and the malformed entry.
 */
export function parseRecipients(field: string, input: RecipientInput): Mailbox[] {
	if (input === undefined || input === null || input === '') return [];
	const entries = Array.isArray(input) ? input : [input];
	const mailboxes: Mailbox[] = [];
	for (const entry of entries) {
		if (entry === undefined || entry === null || entry === '') continue;
		if (typeof entry === 'object') {
			mailboxes.push(checkMailbox(field, String(entry.address ?? ''), String(entry.name ?? '')));
			continue;
		}
		const raw = String(entry);
		assertHeaderValue(field, raw);
		for (const parsed of addressparser(raw, { flatten: true })) {
			if (!parsed.address && !parsed.name) continue;
			// addressparser turns a bare word into a name with no address: that is a malformed entry.
			mailboxes.push(
				checkMailbox(field, parsed.address ?? '', parsed.address ? parsed.name : '', parsed.name),
			);
		}
	}
	return mailboxes;
}

function checkMailbox(field: string, address: string, name: string, shown = address): Mailbox {
	const trimmed = address.trim();
	if (!isValidAddress(trimmed)) {
		throw new InputError(
			`${field} has "${shown || trimmed}", which is not a valid email address. Use name@example.com, optionally as "Name <name@example.com>", separated by commas.`,
		);
	}
	assertHeaderValue(`The display name of ${trimmed} in ${field}`, name);
	return { address: trimmed, name: name.trim() };
}

/** Unique envelope recipients across To, CC and BCC (addresses compare case-insensitively). */
export function uniqueRecipients(...lists: Mailbox[][]): string[] {
	const seen = new Map<string, string>();
	for (const list of lists) {
		for (const { address } of list) {
			const key = address.toLowerCase();
			if (!seen.has(key)) seen.set(key, address);
		}
	}
	return [...seen.values()];
}

/** Throws when there are no recipients or more than AgentMail accepts. */
export function assertRecipientCount(recipients: string[]): void {
	if (recipients.length === 0) {
		throw new InputError('The message has no recipient: fill in To, CC or BCC.');
	}
	if (recipients.length > MAX_RECIPIENTS) {
		throw new LimitError(
			`The message has ${recipients.length} recipients (To, CC and BCC together, duplicates removed); AgentMail accepts at most ${MAX_RECIPIENTS} per message. Split them over several messages, e.g. with a Loop Over Items node.`,
		);
	}
}

/** Throws when a From other than the inbox is asked for. */
export function assertFrom(inbox: string, requested: string | undefined): void {
	if (!requested) return;
	const [mailbox] = addressparser(requested, { flatten: true });
	const address = mailbox?.address ?? requested;
	if (address.trim().toLowerCase() !== inbox.toLowerCase()) {
		throw new InputError(
			`AgentMail only sends from the inbox itself: From must be ${inbox}, not "${requested}". Remove the From, or use a credential for the inbox you want to send from.`,
		);
	}
}

/** Throws when the encoded message is larger than AgentMail accepts. */
export function assertMessageSize(bytes: number): void {
	if (bytes > MAX_MESSAGE_BYTES) {
		throw new LimitError(
			`The encoded message is ${formatBytes(bytes)}; AgentMail accepts at most ${formatBytes(MAX_MESSAGE_BYTES)} including attachments (base64 makes them about a third larger). Send fewer or smaller attachments, or share large files as a link.`,
		);
	}
}
