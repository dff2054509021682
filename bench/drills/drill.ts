/**
 * What every drill shares: the two sides set up in the same n8n (ours on agent@, n8n's Email
 * Trigger (IMAP) on peer@), watched while the fault happens, and one table row per side counted
 * from the mail itself.
 */
import type { WorkflowInput } from '../../tools/n8n/server';
import type { CredentialRef, Lab } from '../lab/lab';
import { benchMessage, Deliverer } from '../lab/mail';
import {
	builtinTriggerWorkflow,
	oursTriggerWorkflow,
	type OursTriggerParameters,
	type Side,
} from '../lab/workflows';
import { activate, deactivate, SIDE_INBOX } from '../phases/common';
import { distinctLines, LogWindow } from './logs';
import { storedCopies } from './mailbox';
import { RestSession, Watch, type KeyOf } from './watch';

/** A warm-up message reaches a side within this, with nothing wrong... */
const WARM_UP_WAIT_MS = 20_000;
/**
 * ...unless it arrived while n8n's trigger was still starting (it misses such mail until the
 * next arrives): then another one is sent, up to this many in all.
 */
const WARM_UP_ATTEMPTS = 3;
/** After recovery, how long the drill keeps looking for late duplicates. */
export const QUIET_MS = 5_000;
/** Longest error text quoted in the table; the notes have it whole. */
const SHORT_TEXT_CHARS = 110;

export const SIDES = ['ours', 'builtin'] as const;
export const SIDE_LABEL: Record<Side, string> = {
	ours: 'AgentMail Trigger (ours)',
	builtin: 'Email Trigger (IMAP) 2.2',
};
/** Each side's inbox: the same Dovecot, separate mailboxes. */
/** The inbox each side watches: the same as in the bench phases. */
export { SIDE_INBOX };

export interface DrillContext {
	lab: Lab;
	log: (line: string) => void;
	rest: RestSession;
}

/** One row of the table. */
export interface Row {
	drill: string;
	side: Side;
	/** What the side is, when not its trigger (the send drill). */
	label?: string;
	delivered: number;
	runs: number;
	duplicates: number;
	lost: number;
	/** e.g. `4.2 s`, `not recovered within 180 s`, `n/a`. */
	recovery: string;
	userSaw: string;
}

export interface DrillOutcome {
	rows: Row[];
	/** Markdown lines: what happened, measured. */
	notes: string[];
}

export interface Drill {
	id: string;
	/** The row label. */
	title: string;
	/** What the drill does, for the report. */
	what: string;
	run(context: DrillContext): Promise<DrillOutcome>;
	/** Why it went as it did: short paragraphs for the report, from the rows. */
	explain?: (rows: Row[]) => string[];
}

/** One side's workflow in a drill. */
export interface Rig {
	side: Side;
	name: string;
	id: string;
	watch: Watch;
	/** The workflow as created (a drill that edits it starts from this). */
	workflow: WorkflowInput;
	/** Things worth saying about this side that the counts do not show. */
	notes: string[];
}

export type Rigs = Record<Side, Rig>;

/** Our trigger's parameters, filters included (see its description). */
export type OursParameters = OursTriggerParameters & { filters?: Record<string, unknown> };

/** What each side's trigger workflow looks like in a drill; defaults as users have them. */
export interface RigOptions {
	ours?: OursParameters;
	builtin?: Record<string, unknown>;
	credentials?: Partial<Record<Side, CredentialRef>>;
	keyOf?: KeyOf;
	/** Changes a side's workflow before it is created (e.g. nodes after the trigger). */
	shape?: (side: Side, workflow: WorkflowInput) => WorkflowInput;
}

/** Creates and activates both sides' trigger workflows and starts watching them. */
export async function rig(
	context: DrillContext,
	title: string,
	options: RigOptions = {},
): Promise<Rigs> {
	const { lab } = context;
	const workflows: Record<Side, WorkflowInput> = {
		ours: oursTriggerWorkflow(
			`Drill ${title}: ours`,
			options.credentials?.ours ?? lab.ours[SIDE_INBOX.ours],
			options.ours,
		),
		builtin: builtinTriggerWorkflow(
			`Drill ${title}: built-in`,
			options.credentials?.builtin ?? lab.imap[SIDE_INBOX.builtin],
			options.builtin,
		),
	};
	const rigs = {} as Rigs;
	for (const side of SIDES) {
		const workflow = options.shape?.(side, workflows[side]) ?? workflows[side];
		const id = await activate(context, side, workflow);
		rigs[side] = {
			side,
			name: workflow.name,
			id,
			workflow,
			watch: new Watch(lab, context.rest, id, options.keyOf),
			notes: [],
		};
	}
	return rigs;
}

/** A side's row among a drill's rows. */
export function rowOf(rows: Row[], side: Side): Row | undefined {
	return rows.find((row) => row.side === side);
}

/** Deactivates both sides' workflows (they stay, with their runs, for anyone looking later). */
export async function unrig(context: DrillContext, rigs: Rigs): Promise<void> {
	for (const side of SIDES) await deactivate(context, rigs[side].id);
}

/** The workflow names and ids, for attributing n8n's log lines. */
export function workflowsOf(rigs: Rigs): Record<Side, { id: string; name: string }> {
	return {
		ours: { id: rigs.ours.id, name: rigs.ours.name },
		builtin: { id: rigs.builtin.id, name: rigs.builtin.name },
	};
}

/** Subjects unique to a drill and side. */
export function subjects(drill: string, side: Side, tag: string, count: number): string[] {
	return Array.from({ length: count }, (_, i) => `drill ${drill} ${side} ${tag} ${i + 1}`);
}

/** Delivers one message per subject to each side's inbox over LMTP; returns the subjects. */
export async function deliverEach(
	context: DrillContext,
	drill: string,
	tag: string,
	count: number,
): Promise<Record<Side, string[]>> {
	const deliverer = new Deliverer(context.lab.info);
	try {
		const out = {} as Record<Side, string[]>;
		for (const side of SIDES) {
			out[side] = subjects(drill, side, tag, count);
			for (const subject of out[side]) {
				await deliverer.deliver(SIDE_INBOX[side], benchMessage(subject));
			}
		}
		return out;
	} finally {
		deliverer.close();
	}
}

/**
 * One message to each side, and both should put it out: the drill starts from a working state.
 * Every warm-up message sent is one the side must put out once. A side that puts out none of
 * them goes on into the drill all the same, its warm-up mail counted as lost and said in its
 * notes: aborting would drop the other side's row with it. (In two runs, n8n's trigger put out
 * none in the n8n-restart drill: its warm-up mail was marked read and no run started, most
 * likely by a trigger an earlier drill had left behind.)
 */
export async function warmUp(
	context: DrillContext,
	rigs: Rigs,
	drill: string,
): Promise<Record<Side, string[]>> {
	const sent: Record<Side, string[]> = { ours: [], builtin: [] };
	const deliverer = new Deliverer(context.lab.info);
	try {
		for (const side of SIDES) {
			const watch = rigs[side].watch;
			let putOut = false;
			for (let attempt = 1; ; attempt++) {
				const subject = `drill ${drill} ${side} warm-up ${attempt}`;
				await deliverer.deliver(SIDE_INBOX[side], benchMessage(subject));
				sent[side].push(subject);
				putOut = await watch.waitFor(sent[side], WARM_UP_WAIT_MS);
				if (putOut) break;
				if (attempt === WARM_UP_ATTEMPTS) {
					context.log(`${drill}: the ${side} trigger put out none of ${attempt} warm-up messages`);
					rigs[side].notes.push(
						`put out none of its ${attempt} warm-up messages (${WARM_UP_WAIT_MS / 1000} s each) before the fault; they count as lost`,
					);
					break;
				}
			}
			if (putOut && sent[side].length > 1) {
				rigs[side].notes.push(
					`the first warm-up message, delivered just after the activation, came only with warm-up message ${sent[side].length}`,
				);
			}
		}
	} finally {
		deliverer.close();
	}
	return sent;
}

/** Waits, both sides at once, until each has put out its keys or the bound is reached. */
export async function waitBoth(
	rigs: Rigs,
	keys: Record<Side, string[]>,
	timeoutMs: Record<Side, number>,
): Promise<Record<Side, boolean>> {
	const [ours, builtin] = await Promise.all(
		SIDES.map(async (side) => await rigs[side].watch.waitFor(keys[side], timeoutMs[side])),
	);
	return { ours, builtin };
}

/** Keeps both watches polling for a while (late runs, state changes). */
export async function observeBoth(rigs: Rigs, ms: number): Promise<void> {
	await Promise.all(SIDES.map(async (side) => await rigs[side].watch.observe(ms)));
}

function short(text: string): string {
	const flat = text.replace(/\s+/g, ' ').trim();
	return flat.length > SHORT_TEXT_CHARS ? `${flat.slice(0, SHORT_TEXT_CHARS)}…` : flat;
}

export function seconds(ms: number): string {
	return `${(ms / 1000).toFixed(1)} s`;
}

/** A moment relative to the fault: `+12 s`, `-3 s`. */
function relative(ms: number): string {
	return `${ms < 0 ? '-' : '+'}${Math.round(Math.abs(ms) / 1000)} s`;
}

/**
 * The fault is about to happen: n8n's log is read from here, and the state changes each side
 * shows are timed from here.
 */
export function faultBegins(lab: Lab, rigs: Rigs): LogWindow {
	const now = Date.now();
	for (const side of SIDES) rigs[side].watch.zero = now;
	return new LogWindow(lab, workflowsOf(rigs));
}

/** The recovery cell: from `from` to the run that completed `keys`. */
export function recoveryCell(watch: Watch, keys: string[], from: number, boundMs: number): string {
	const at = watch.completedAt(keys);
	return at === null ? `not recovered within ${Math.round(boundMs / 1000)} s` : seconds(at - from);
}

/** What the user saw, in one cell: the toggle and error over time, the runs, the log. */
function userSaw(watch: Watch, logLines: string[]): string {
	const states = watch.states
		.map(
			(s, i) =>
				`${i > 0 ? `(${relative(s.at - watch.zero)}) ` : ''}${s.active ? 'active' : 'inactive'}` +
				(s.error ? ` + error “${short(s.error)}”` : ''),
		)
		.join(' → ');
	const statuses = new Map<string, number>();
	for (const run of watch.runs.values()) {
		statuses.set(run.status, (statuses.get(run.status) ?? 0) + 1);
	}
	const runs = [...statuses].map(([status, n]) => `${n} ${status}`).join(', ') || 'no runs';
	const errors = [...new Set([...watch.runs.values()].flatMap((run) => run.error ?? []))];
	const errorText = errors.length ? ` (“${short(errors[0])}”)` : '';
	const log =
		logLines.length === 0
			? 'nothing in the log'
			: `log: ${logLines.length} line${logLines.length > 1 ? 's' : ''}`;
	return `${states || 'not read'}; runs: ${runs}${errorText}; ${log}`;
}

/** Counts one side against what was stored, and says what the user saw. */
export function tally(
	drill: string,
	r: Rig,
	options: {
		/** Every message the side should have put out once. */
		keys: string[];
		recovery: string;
		logs: LogWindow;
		/** Copies of each message in the mailbox (a retried delivery can store one twice). */
		copies?: Map<string, number>;
	},
): { row: Row; notes: string[] } {
	const { keys, logs, copies } = options;
	const watch = r.watch;
	const duplicated = keys.filter((key) => watch.count(key) > (copies?.get(key) ?? 1));
	const lost = keys.filter((key) => watch.count(key) === 0);
	const logLines = logs.about(r.side);
	const row: Row = {
		drill,
		side: r.side,
		delivered: keys.length,
		runs: watch.runs.size,
		duplicates: duplicated.length,
		lost: lost.length,
		recovery: options.recovery,
		userSaw: userSaw(watch, logLines),
	};
	const notes = [`- **${SIDE_LABEL[r.side]}**: ${row.userSaw}.`];
	for (const note of r.notes) notes.push(`  - ${note}`);
	for (const state of watch.states.filter((s) => s.error)) {
		notes.push(`  - from ${relative(state.at - watch.zero)} n8n showed: “${state.error}”`);
	}
	const items = watch.allKeys().length;
	if (items !== keys.length || duplicated.length || lost.length) {
		notes.push(
			`  - ${items} items in ${row.runs} runs for ${keys.length} messages` +
				(lost.length
					? `; never put out: ${lost.slice(0, 5).join(', ')}${lost.length > 5 ? ', …' : ''}`
					: '') +
				(duplicated.length
					? `; more than once: ${duplicated.slice(0, 5).join(', ')}${duplicated.length > 5 ? ', …' : ''}`
					: ''),
		);
	}
	if (watch.unreachable) notes.push(`  - n8n did not answer ${watch.unreachable} looks`);
	for (const [line, count] of distinctLines(logLines)) {
		notes.push(`  - log${count > 1 ? ` (×${count}, numbers differ)` : ''}: \`${line}\``);
	}
	return { row, notes };
}

/** How a drill ends: each side waits (bounded) for its mail, then both are counted. */
export interface Ending {
	/** Every message each side should have put out once. */
	keys: Record<Side, string[]>;
	/** The messages the fault held back, and when the fault ended: the recovery is timed on them. */
	held: Record<Side, string[]>;
	/** One moment for both sides, or one per side. */
	faultEndedAt: number | Record<Side, number>;
	boundMs: number;
	/** Count copies stored in the side's INBOX (deliveries that may have been repeated). */
	countCopies?: boolean;
	/**
	 * After counting: a side still missing held messages gets one new message, to see whether
	 * they were only waiting for the next mail (said in the notes; the table keeps the count).
	 */
	nudge?: boolean;
	/** What the drill does for a side that did not recover within the bound (said in the cell). */
	rescue?: { what: string; run: (r: Rig) => Promise<void>; boundMs: number };
}

export async function waitAndTally(
	title: string,
	rigs: Rigs,
	logs: LogWindow,
	ending: Ending,
): Promise<DrillOutcome> {
	const { keys, held, faultEndedAt, boundMs, rescue } = ending;
	await waitBoth(rigs, keys, { ours: boundMs, builtin: boundMs });
	const from = (side: Side) =>
		typeof faultEndedAt === 'number' ? faultEndedAt : faultEndedAt[side];
	// Judged at the bound, before anything the drill does to help.
	const recovery = {} as Record<Side, string>;
	for (const side of SIDES) {
		recovery[side] = recoveryCell(rigs[side].watch, held[side], from(side), boundMs);
	}
	if (rescue) {
		await Promise.all(
			SIDES.filter((side) => rigs[side].watch.completedAt(held[side]) === null).map(
				async (side) => {
					await rescue.run(rigs[side]);
					const rescuedAt = Date.now();
					await rigs[side].watch.waitFor(keys[side], rescue.boundMs);
					const after = recoveryCell(rigs[side].watch, held[side], rescuedAt, rescue.boundMs);
					recovery[side] = `${recovery[side]} by itself; after ${rescue.what}: ${after}`;
				},
			),
		);
	}
	await observeBoth(rigs, QUIET_MS);
	const outcome: DrillOutcome = { rows: [], notes: [] };
	for (const side of SIDES) {
		const { row, notes } = tally(title, rigs[side], {
			keys: keys[side],
			copies: ending.countCopies ? await storedCopies(SIDE_INBOX[side]) : undefined,
			logs,
			recovery: recovery[side],
		});
		outcome.rows.push(row);
		outcome.notes.push(...notes);
	}
	if (ending.nudge) outcome.notes.push(...(await nudge(title, rigs, held)));
	return outcome;
}

/** How long a nudge message gets to bring the waiting ones along. */
const NUDGE_MS = 30_000;

async function nudge(title: string, rigs: Rigs, held: Record<Side, string[]>): Promise<string[]> {
	const notes: string[] = [];
	const deliverer = new Deliverer(rigs.ours.watch.lab.info);
	try {
		for (const side of SIDES) {
			const watch = rigs[side].watch;
			const missing = held[side].filter((key) => watch.count(key) === 0);
			if (missing.length === 0) continue;
			const subject = `drill ${title} ${side} nudge`;
			await deliverer.deliver(SIDE_INBOX[side], benchMessage(subject));
			const sentAt = Date.now();
			const came = await watch.waitFor([subject, ...missing], NUDGE_MS);
			const brought = missing.filter((key) => watch.count(key) > 0).length;
			notes.push(
				`- ${side}: after the bound, one new message was delivered: ${
					came
						? `its run (${seconds((watch.completedAt([subject]) ?? sentAt) - sentAt)} later) brought all ${missing.length} missing messages with it`
						: `${brought} of the ${missing.length} missing messages came within ${NUDGE_MS / 1000} s`
				} (not counted in the table).`,
			);
		}
	} finally {
		deliverer.close();
	}
	return notes;
}

/** Both sides' keys, concatenated per side. */
export function joined(...parts: Array<Record<Side, string[]>>): Record<Side, string[]> {
	return {
		ours: parts.flatMap((part) => part.ours),
		builtin: parts.flatMap((part) => part.builtin),
	};
}
