/**
 * The workflow deactivated while its server hangs: each side reaches Dovecot through a TCP
 * proxy of its own; the proxy goes silent (open connections stop forwarding, new ones are
 * accepted and never answered), and then both workflows are deactivated, one after the other.
 * A trigger must let go at once: no connection left open, no timer that reconnects or logs.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { startProxy, type SilentProxy } from '../../tools/proxy';
import { sandboxCredential } from '../../tools/sandbox/info';
import { imapCredentialData, type CredentialRef } from '../lab/lab';
import type { Side } from '../lab/workflows';
import {
	rig,
	seconds,
	SIDE_INBOX,
	SIDES,
	tally,
	warmUp,
	type Drill,
	type DrillOutcome,
} from './drill';
import { LogWindow } from './logs';

/**
 * How long the server hangs before the deactivation: past our connection check's worst case
 * with its default 60 s window (a NOOP every 30 s, 15 s for the answer), so ours is by then in
 * a connect that hangs; n8n's notices nothing.
 */
const HUNG_MS = 50_000;
/** How long each side gets to close its connections once deactivated. */
const CLOSE_BOUND_MS = 30_000;
/** After both are off, how long the drill keeps watching the proxies and the log. */
const AFTER_MS = 90_000;

/** What one side did when deactivated. */
interface Letting {
	callMs: number;
	/** From the call to no connection open, or null: some still open at the bound. */
	closedMs: number | null;
	openBefore: number;
	/** Connections accepted by the proxy since it went silent, before the deactivation. */
	acceptedWhileHung: number;
}

async function deactivateAndWatch(
	lab: { client: { deactivateWorkflow(id: string): Promise<void> } },
	id: string,
	proxy: SilentProxy,
	acceptedAtFreeze: number,
): Promise<Letting> {
	const acceptedWhileHung = proxy.accepted - acceptedAtFreeze;
	const openBefore = proxy.open;
	const start = Date.now();
	await lab.client.deactivateWorkflow(id);
	const callMs = Date.now() - start;
	while (proxy.open > 0 && Date.now() - start < CLOSE_BOUND_MS) await sleep(100);
	return {
		callMs,
		closedMs: proxy.open === 0 ? Date.now() - start : null,
		openBefore,
		acceptedWhileHung,
	};
}

export const deactivateHung: Drill = {
	id: 'deactivate-hung',
	title: 'Deactivated while the server hangs',
	what: `Each side connects through a TCP proxy of its own in front of Dovecot. After a warm-up message, the proxy goes silent: open connections stop forwarding without closing, new ones are accepted and never answered. ${HUNG_MS / 1000} s later each workflow is deactivated (POST /api/v1/workflows/:id/deactivate), ours first. Measured per side: how long the call took, when the last connection to its proxy closed (bound ${CLOSE_BOUND_MS / 1000} s), and for ${AFTER_MS / 1000} s after both are off: connections opened to the proxy and log lines about the trigger (both would come from timers left behind). The time column says the deactivation; times on a shared 2-core machine are rough.`,
	explain() {
		return [
			'Ours: deactivation stops the session: it clears its reconnect, connection-check and outage timers, closes a connect still in progress, and gives LOGOUT at most 3 s before it closes the socket (the time until its last connection closed, above).',
			"n8n's: see the measurements; it has no connection check, so it was still on its first, silent connection when deactivated.",
		];
	},
	async run(context): Promise<DrillOutcome> {
		const { lab } = context;
		const proxies = {} as Record<Side, SilentProxy>;
		for (const side of SIDES) {
			proxies[side] = await startProxy(lab.info.imap.host, lab.info.imap.port);
		}
		const deactivated = new Set<Side>();
		try {
			const credential = async (name: string, type: string, data: Record<string, unknown>) =>
				({ id: await lab.client.createCredential(name, type, data), name }) as CredentialRef;
			const credentials = {
				ours: await credential('AgentMail agent@ via hanging proxy', 'agentMailInboxApi', {
					...sandboxCredential(lab.info, SIDE_INBOX.ours),
					imapPort: proxies.ours.port,
				}),
				builtin: await credential('IMAP peer@ via hanging proxy', 'imap', {
					...imapCredentialData(lab.info, SIDE_INBOX.builtin),
					port: proxies.builtin.port,
				}),
			};
			const rigs = await rig(context, this.title, { credentials });
			try {
				const warm = await warmUp(context, rigs, this.id);
				const acceptedAtFreeze = {} as Record<Side, number>;
				for (const side of SIDES) {
					acceptedAtFreeze[side] = proxies[side].accepted;
					proxies[side].newConnections = 'hold';
					proxies[side].freezeExisting();
					rigs[side].watch.zero = Date.now();
				}
				await sleep(HUNG_MS);
				const letting = {} as Record<Side, Letting>;
				const afterOff = {} as Record<Side, { logs: LogWindow; accepted: number }>;
				for (const side of SIDES) {
					letting[side] = await deactivateAndWatch(
						lab,
						rigs[side].id,
						proxies[side],
						acceptedAtFreeze[side],
					);
					deactivated.add(side);
					afterOff[side] = {
						logs: new LogWindow(lab, { [side]: rigs[side] }),
						accepted: proxies[side].accepted,
					};
					context.log(
						`${this.id}: ${side} deactivated in ${seconds(letting[side].callMs)}; connections open: ${proxies[side].open}`,
					);
				}
				await Promise.all(SIDES.map(async (side) => await rigs[side].watch.observe(AFTER_MS)));
				const outcome: DrillOutcome = { rows: [], notes: [] };
				for (const side of SIDES) {
					const { callMs, closedMs, openBefore, acceptedWhileHung } = letting[side];
					const logsAfter = afterOff[side].logs.about(side);
					const opened = proxies[side].accepted - afterOff[side].accepted;
					const { row, notes } = tally(this.title, rigs[side], {
						keys: warm[side],
						logs: afterOff[side].logs,
						recovery: `deactivate ${seconds(callMs)}; ${
							closedMs === null
								? `${proxies[side].open} connection(s) still open ${CLOSE_BOUND_MS / 1000} s later`
								: `last connection closed ${seconds(closedMs)} after the call`
						}`,
					});
					outcome.rows.push(row);
					outcome.notes.push(
						...notes,
						`  - connections to its proxy: ${acceptedWhileHung} opened while it hung (each a connect never answered), ${openBefore} open at the deactivation, ${proxies[side].open} at the end (${AFTER_MS / 1000} s after both were off); ${opened} opened after its deactivation; ${logsAfter.length} log line(s) after its deactivation.`,
					);
				}
				return outcome;
			} finally {
				for (const side of SIDES) {
					if (!deactivated.has(side)) await lab.client.deactivateWorkflow(rigs[side].id);
				}
			}
		} finally {
			for (const side of SIDES) await proxies[side].close();
		}
	},
};
