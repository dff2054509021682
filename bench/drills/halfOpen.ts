/**
 * A silent half-open connection: both triggers reach Dovecot through a TCP proxy that, at some
 * moment, stops forwarding on the connections it holds without closing them (as a NAT or a
 * firewall that forgets a connection does). New connections still go through. Both sides keep
 * their default settings: ours checks the connection within 60 s, n8n's has no such option.
 */
import { startProxy } from '../../tools/proxy';
import { sandboxCredential } from '../../tools/sandbox/info';
import { imapCredentialData, type CredentialRef } from '../lab/lab';
import {
	deliverEach,
	joined,
	rig,
	SIDE_INBOX,
	unrig,
	waitAndTally,
	warmUp,
	faultBegins,
	rowOf,
	type Drill,
	type DrillOutcome,
} from './drill';
import { prose, verdict } from './prose';

/** Our trigger's default connection check (livenessSeconds), as users have it. */
const OUR_DEFAULT_WINDOW_S = 60;
/** How long each side gets to put out the mail sent into the silence: 3× our window. */
const BOUND_MS = 3 * OUR_DEFAULT_WINDOW_S * 1000;

export const halfOpen: Drill = {
	id: 'half-open',
	title: 'Silent half-open connection',
	what: `Both triggers connect through a TCP proxy in front of Dovecot's IMAP port (their own credentials with the proxy's port); after a warm-up message the proxy stops forwarding on the open connections without closing them, and one message per side is delivered. Each side gets ${BOUND_MS / 1000} s. Time to recover: from the freeze to the run with that message.`,
	explain(rows) {
		const builtin = rowOf(rows, 'builtin');
		return verdict('half-open', {
			noopS: OUR_DEFAULT_WINDOW_S / 2,
			answerS: OUR_DEFAULT_WINDOW_S / 4,
			latestS: (OUR_DEFAULT_WINDOW_S * 3) / 4,
			outcome: builtin?.lost ? prose('half-open.lost') : 'It recovered here anyway.',
		});
	},
	async run(context): Promise<DrillOutcome> {
		const { lab } = context;
		const proxy = await startProxy(lab.info.imap.host, lab.info.imap.port);
		try {
			const credential = async (name: string, type: string, data: Record<string, unknown>) =>
				({ id: await lab.client.createCredential(name, type, data), name }) as CredentialRef;
			const credentials = {
				ours: await credential('AgentMail agent@ via silent proxy', 'agentMailInboxApi', {
					...sandboxCredential(lab.info, SIDE_INBOX.ours),
					imapPort: proxy.port,
				}),
				builtin: await credential('IMAP peer@ via silent proxy', 'imap', {
					...imapCredentialData(lab.info, SIDE_INBOX.builtin),
					port: proxy.port,
				}),
			};
			const rigs = await rig(context, this.title, { credentials });
			try {
				const warm = await warmUp(context, rigs, this.id);
				const logs = faultBegins(lab, rigs);
				const connectionsBefore = proxy.accepted;
				proxy.freezeExisting();
				const frozenAt = Date.now();
				const silent = await deliverEach(context, this.id, 'during silence', 1);
				const outcome = await waitAndTally(this.title, rigs, logs, {
					keys: joined(warm, silent),
					held: silent,
					faultEndedAt: frozenAt,
					boundMs: BOUND_MS,
				});
				outcome.notes.unshift(
					`- The proxy accepted ${connectionsBefore} connections before the freeze and ${proxy.accepted - connectionsBefore} after it (new connections go through).`,
				);
				return outcome;
			} finally {
				await unrig(context, rigs);
			}
		} finally {
			await proxy.close();
		}
	},
};
