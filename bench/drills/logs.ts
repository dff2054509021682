/**
 * n8n's log as the user's operator would read it during a drill: the lines written since the
 * drill began that concern an email trigger or its workflow, with every API key blanked out.
 */
import { readFileSync, statSync } from 'node:fs';

import type { Lab } from '../lab/lab';
import type { Side } from '../lab/workflows';

/** Longest log line quoted; n8n appends whole error objects to some. */
const MAX_LINE_CHARS = 300;
/** Anything shaped like an AgentMail API key, whatever inbox it belongs to. */
const KEY_PATTERN = /am_[0-9a-f]{8,}/g;

/** A stack trace's frame line, which n8n prints under some errors. */
const STACK_FRAME = /^at /;
/** Lines our nodes write (nodes/shared/imap/, the action node's helpers, the SMTP transport). */
const OURS_LINE =
	/AgentMail|IMAP connection to|IMAP catch-up|IMAP fetch from|still unreachable|renumbered|SMTP session ended/;
/** n8n's line about a trigger that failed while running (it names the node only). */
const RUNTIME_FAILURE = /The trigger node ".*" failed at runtime/;
/** Lines n8n's Email Trigger (IMAP) writes at info level and above. */
const BUILTIN_LINE = /Email Read Imap|IMAP connection (closed|experienced)/i;

export class LogWindow {
	private readonly offset: number;
	private readonly secrets: string[];

	constructor(
		private readonly lab: Lab,
		/** Workflow names and ids by side, to attribute n8n's own lines about them. */
		private readonly workflows: Partial<Record<Side, { id: string; name: string }>>,
	) {
		this.offset = statSync(lab.n8n.logFile).size;
		// The keys as they are now; keys set later by a drill go through KEY_PATTERN.
		this.secrets = lab.info.inboxes.map((inbox) => inbox.apiKey);
	}

	private redact(line: string): string {
		let out = line;
		for (const secret of this.secrets) out = out.split(secret).join('[key]');
		return out.replace(KEY_PATTERN, '[key]');
	}

	/** Every line written since the window opened (redacted, without colour codes). */
	all(): string[] {
		const text = readFileSync(this.lab.n8n.logFile).subarray(this.offset).toString('utf8');
		return (
			text
				// eslint-disable-next-line no-control-regex -- n8n colours its console output
				.replace(/\u001b\[[0-9;]*m/g, '')
				.split('\n')
				.map((line) => this.redact(line.trim()))
				.filter(Boolean)
		);
	}

	/**
	 * The lines about one side's trigger or workflow, stack frames left out. n8n's line about a
	 * trigger that failed at runtime names only the node (both sides call it "Trigger"): it and
	 * the cause under it go to the side whose line came just before it.
	 */
	about(side: Side): string[] {
		const out: string[] = [];
		let previous: Side | undefined;
		let causeOf: Side | undefined;
		for (const line of this.all()) {
			if (STACK_FRAME.test(line)) continue;
			let owner = this.ownerOf(line);
			if (!owner && RUNTIME_FAILURE.test(line)) {
				owner = previous;
				causeOf = previous;
			} else if (!owner && causeOf) {
				owner = causeOf;
				causeOf = undefined;
			}
			if (!owner) continue;
			previous = owner;
			if (owner === side) {
				out.push(line.length > MAX_LINE_CHARS ? `${line.slice(0, MAX_LINE_CHARS)}…` : line);
			}
		}
		return out;
	}

	private ownerOf(line: string): Side | undefined {
		for (const side of ['ours', 'builtin'] as const) {
			const workflow = this.workflows[side];
			const own = side === 'ours' ? OURS_LINE : BUILTIN_LINE;
			if (own.test(line)) return side;
			if (workflow && (line.includes(`"${workflow.name}"`) || line.includes(`(${workflow.id})`))) {
				return side;
			}
		}
		return undefined;
	}
}

/**
 * Groups lines that differ only in numbers (times, ids, ports), keeping the first of each with
 * how often it came: `[line, count]`, in order of first appearance.
 */
export function distinctLines(lines: string[]): Array<[string, number]> {
	const groups = new Map<string, [string, number]>();
	for (const line of lines) {
		const shape = line.replace(/\d+/g, '#');
		const group = groups.get(shape);
		if (group) group[1]++;
		else groups.set(shape, [line, 1]);
	}
	return [...groups.values()];
}
