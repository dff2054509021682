/**
 * Sandbox profiles: which servers a sandbox stands for. AgentMail's real servers are not
 * Dovecot, and what they support beyond the vendor's page is unknown, so a profile can put a
 * proxy in front of Dovecot that takes features away. One table says what each profile starts.
 */
import type { ImapProxyRules } from './imapProxy';

/** The profiles, by name. */
export type SandboxProfile = 'dovecot' | 'search-subset' | 'search-ignore';

/** What a profile starts besides Dovecot and the SMTP servers. */
export interface ProfileSetup {
	/** One line for the command line's summary. */
	description: string;
	/** A proxy in front of Dovecot's IMAPS port, with these rules; none: clients reach Dovecot. */
	imapProxy?: ImapProxyRules;
}

/** The search keys AgentMail's server is least likely to have: they need a header or body index. */
const CONTENT_SEARCH_KEYS = ['HEADER', 'BODY', 'TEXT'] as const;

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
