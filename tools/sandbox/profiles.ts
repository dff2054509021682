/**
 * Sandbox profiles: which servers a sandbox stands for. AgentMail's real servers are not
 * Dovecot, and what they support beyond the vendor's page is unknown, so a profile can take
 * features away from Dovecot (its own settings, or a proxy in front of it) and make the SMTP
 * side change what it is given. One table says what each profile starts.
 */
import type { ImapProxyRules } from './imapProxy';

/** The profiles, by name. */
export type SandboxProfile =
	| 'dovecot'
	| 'search-subset'
	| 'search-ignore'
	| 'minimal'
	| 'no-move'
	| 'rewriting-smtp'
	| 'rewriting-smtp-nosent';

/** What Dovecot itself is told to offer. */
export interface ImapServerSetup {
	/**
	 * Dovecot's `imap_capability`: the whole capability list it announces before and after login
	 * (before login it adds the AUTH= mechanisms). Dovecot still answers commands it no longer
	 * announces; a client that goes by the list does not send them.
	 */
	capability?: string;
	/** Whether LIST marks Sent, Trash, Spam and Drafts with special-use flags; default true. */
	specialUse?: boolean;
}

/** How the SMTP side changes a message it accepted, as some providers do. */
export interface SmtpRewrite {
	/** The message gets a Message-ID of the server's own, replacing the sender's. */
	newMessageId?: boolean;
	/** Header fields whose name starts with `X-` are removed. */
	dropXHeaders?: boolean;
	/**
	 * When the copy in Sent appears: this many ms after the message was accepted, or never
	 * (null). Default: before the sender gets its 250, as with Dovecot.
	 */
	sentCopyAfterMs?: number | null;
}

/** What a profile starts besides Dovecot and the SMTP servers, and how it sets them up. */
export interface ProfileSetup {
	/** One line for the command line's summary. */
	description: string;
	/** Dovecot's own settings; none: all it has. */
	imapServer?: ImapServerSetup;
	/** A proxy in front of Dovecot's IMAPS port, with these rules; none: clients reach Dovecot. */
	imapProxy?: ImapProxyRules;
	/** What the SMTP side does to what it accepts; none: delivered and copied to Sent as sent. */
	smtpRewrite?: SmtpRewrite;
}

/** The search keys AgentMail's server is least likely to have: they need a header or body index. */
const CONTENT_SEARCH_KEYS = ['HEADER', 'BODY', 'TEXT'] as const;

/** IMAP4rev1 and nothing more; Dovecot adds AUTH=PLAIN AUTH=LOGIN before login. */
export const MINIMAL_CAPABILITY = 'IMAP4rev1';
/**
 * Response codes of extensions the minimal profile does not have: UIDPLUS (APPENDUID,
 * COPYUID), CONDSTORE (HIGHESTMODSEQ, NOMODSEQ, MODIFIED) and RFC 8474's MAILBOXID.
 */
const MINIMAL_DROPPED_CODES = [
	'APPENDUID',
	'COPYUID',
	'HIGHESTMODSEQ',
	'NOMODSEQ',
	'MODIFIED',
	'MAILBOXID',
] as const;
/**
 * What Dovecot announces after login, less MOVE: a server that moves by COPY and then expunges
 * the one message by UID (UIDPLUS).
 */
export const NO_MOVE_CAPABILITY =
	'IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ NAMESPACE UNSELECT CHILDREN UIDPLUS CONDSTORE ESEARCH LIST-EXTENDED LIST-STATUS SPECIAL-USE';
/** How late the rewriting SMTP side puts the Sent copy in place. */
export const REWRITE_SENT_DELAY_MS = 4_000;

export const SANDBOX_PROFILES: Record<SandboxProfile, ProfileSetup> = {
	dovecot: { description: 'Dovecot as it is: every IMAP feature it has' },
	'search-subset': {
		description: 'SEARCH with HEADER, BODY or TEXT keys is answered BAD',
		imapProxy: { search: { keys: CONTENT_SEARCH_KEYS, policy: 'refuse' } },
	},
	'search-ignore': {
		description: 'SEARCH with HEADER, BODY or TEXT keys returns every message (keys ignored)',
		imapProxy: { search: { keys: CONTENT_SEARCH_KEYS, policy: 'ignore' } },
	},
	minimal: {
		description:
			'IMAP announces IMAP4rev1 and nothing else (no IDLE, MOVE, UIDPLUS, CONDSTORE, SPECIAL-USE...)',
		imapServer: { capability: MINIMAL_CAPABILITY, specialUse: false },
		// Dovecot answers with what a server without UIDPLUS or CONDSTORE would never send.
		imapProxy: { dropResponseCodes: MINIMAL_DROPPED_CODES },
	},
	'no-move': {
		description: 'IMAP without MOVE (UIDPLUS still there): a move is COPY, then UID EXPUNGE',
		imapServer: { capability: NO_MOVE_CAPABILITY },
	},
	'rewriting-smtp': {
		description: `SMTP gives each message its own Message-ID, drops X- headers, Sent copy ${REWRITE_SENT_DELAY_MS / 1000} s late`,
		smtpRewrite: { newMessageId: true, dropXHeaders: true, sentCopyAfterMs: REWRITE_SENT_DELAY_MS },
	},
	'rewriting-smtp-nosent': {
		description: 'SMTP gives each message its own Message-ID, drops X- headers, keeps no Sent copy',
		smtpRewrite: { newMessageId: true, dropXHeaders: true, sentCopyAfterMs: null },
	},
};

/** The profile when none is asked for. */
export const DEFAULT_PROFILE: SandboxProfile = 'dovecot';

export function isSandboxProfile(name: string): name is SandboxProfile {
	return Object.prototype.hasOwnProperty.call(SANDBOX_PROFILES, name);
}

/**
 * The profile named, else $AGENTMAIL_SANDBOX_PROFILE, else {@link DEFAULT_PROFILE}.
 *
 * @throws Error for a name that is no profile, listing those there are.
 */
export function resolveProfile(name = process.env.AGENTMAIL_SANDBOX_PROFILE): SandboxProfile {
	if (name === undefined || name === '') return DEFAULT_PROFILE;
	if (isSandboxProfile(name)) return name;
	throw new Error(
		`unknown sandbox profile "${name}": use one of ${Object.keys(SANDBOX_PROFILES).join(', ')}`,
	);
}
