/**
 * The SMTP server ending the session in the middle of a batch, as AgentMail's session limit
 * does: after every 3rd accepted message of a session it answers 250 and then 421 and hangs up.
 * One execution sends 20 items through our AgentMail node and one through n8n's Send Email.
 */
import { randomUUID } from 'node:crypto';

import { INBOX } from '../lab/lab';
import { listExecutions, waitForQuiet } from '../lab/runs';
import { SEND, nodeItems, sendWorkflow, type Side } from '../lab/workflows';
import {
	rowOf,
	seconds,
	SIDES,
	SIDE_INBOX,
	type Drill,
	type DrillOutcome,
	type Row,
} from './drill';
import { verdict } from './prose';
import { distinctLines, LogWindow } from './logs';
import { emptyFolder, storedCopies } from './mailbox';

const SENDER_LABEL: Record<Side, string> = {
	ours: 'AgentMail node (ours)',
	builtin: 'Send Email 2.1',
};
/** Items in the one execution. */
const ITEMS = 20;
/** The fault: the session ends after every this many accepted messages. */
const END_SESSION_AFTER = 3;
/** Where the mail goes: a sandbox inbox, so what arrived can be counted there. */
const RECIPIENT = INBOX.other;
/** One webhook call (the Webhook node answers at once; the run goes on). */
const WEBHOOK_TIMEOUT_MS = 30_000;
/** The execution, with reconnects, on a busy machine. */
const RUN_TIMEOUT_MS = 120_000;
/** After the run: the sandbox delivers accepted mail to the recipient before answering 250. */
const QUIET_MS = 2_000;

export const smtpSessionEnd: Drill = {
	id: 'smtp-session-end',
	title: 'SMTP session ended mid-batch',
	what: `The sandbox's SMTP server answers 250 to every ${END_SESSION_AFTER}rd message of a session and then ends the session (421, hang-up), as a session limit does. One execution (Webhook → Split Out → send) sends ${ITEMS} items to ${RECIPIENT}, through our AgentMail node (from agent@) and through n8n's Send Email 2.1 (from peer@). Counted in ${RECIPIENT}'s INBOX and in the server's accepted messages. Runs = executions; time column: how long the execution took.`,
	explain(rows) {
		const ours = rowOf(rows, 'ours');
		return verdict('smtp-session-end', {
			every: END_SESSION_AFTER,
			outcome: ours
				? `${ours.delivered - ours.lost} of ${ours.delivered} arrived, ${ours.duplicates} twice; ${ours.userSaw.split(';')[0]}.`
				: '',
		});
	},
	async run(context): Promise<DrillOutcome> {
		const { lab } = context;
		await emptyFolder(RECIPIENT);
		const outcome: DrillOutcome = { rows: [], notes: [] };
		lab.sandbox.smtpFaults.endSessionAfterMessages = END_SESSION_AFTER;
		try {
			for (const side of SIDES) {
				const from = SIDE_INBOX[side];
				const webhookPath = `drill-send-${side}-${randomUUID().slice(0, 8)}`;
				const credential = side === 'ours' ? lab.ours[from] : lab.smtp[from];
				const name = `Drill ${this.title}: ${side}`;
				const id = await lab.client.createWorkflow(
					sendWorkflow(name, side, credential, from, webhookPath),
				);
				await lab.client.activateWorkflow(id);
				const logs = new LogWindow(lab, { [side]: { id, name } });
				const mark = lab.sandbox.smtpEvents().length;
				const items = Array.from({ length: ITEMS }, (_, i) => ({
					to: RECIPIENT,
					subject: `drill ${this.id} ${side} ${i + 1}`,
					text: `Item ${i + 1} of ${ITEMS}.`,
				}));
				try {
					await lab.client.postWebhook(webhookPath, { items }, { timeoutMs: WEBHOOK_TIMEOUT_MS });
					await waitForQuiet(lab, id, { atLeast: 1, quietMs: QUIET_MS, timeoutMs: RUN_TIMEOUT_MS });
				} finally {
					await lab.client.deactivateWorkflow(id);
				}
				const [run] = await listExecutions(lab, id, true);
				const events = lab.sandbox
					.smtpEvents()
					.slice(mark)
					.filter((e) => e.user === from);
				const accepted = events.filter((e) => e.event === 'data-accepted').length;
				const sessions = new Set(events.map((e) => e.session)).size;
				const copies = await storedCopies(RECIPIENT);
				const wanted = items.map((item) => item.subject);
				const duplicates = wanted.filter((s) => (copies.get(s) ?? 0) > 1).length;
				const lost = wanted.filter((s) => !copies.has(s)).length;
				const error = run?.data?.resultData.error?.message;
				const outputs = run ? nodeItems(run, SEND).length : 0;
				const took = run?.stoppedAt ? Date.parse(run.stoppedAt) - Date.parse(run.startedAt) : NaN;
				const logLines = logs.about(side);
				const row: Row = {
					drill: this.title,
					side,
					label: SENDER_LABEL[side],
					delivered: ITEMS,
					runs: (await listExecutions(lab, id)).length,
					duplicates,
					lost,
					recovery: Number.isNaN(took) ? 'n/a' : `n/a (run took ${seconds(took)})`,
					userSaw: `run ${run?.status ?? 'missing'}${error ? ` (“${error}”)` : ''}; ${outputs} output items; ${logLines.length ? `log: ${logLines.length} lines` : 'nothing in the log'}`,
				};
				outcome.rows.push(row);
				outcome.notes.push(
					`- **${SENDER_LABEL[side]}**: the server accepted ${accepted} messages over ${sessions} SMTP sessions; ${RECIPIENT} received ${wanted.filter((s) => copies.has(s)).length} of the ${ITEMS} subjects.`,
					...distinctLines(logLines).map(
						([line, count]) => `  - log${count > 1 ? ` (×${count})` : ''}: \`${line}\``,
					),
				);
				await emptyFolder(RECIPIENT);
			}
		} finally {
			lab.sandbox.smtpFaults.endSessionAfterMessages = undefined;
		}
		return outcome;
	},
};
