/** The inbox phase's part of BENCHMARKS.md: its table, and its rows of the targets table. */
import type { InboxOperation, InboxResult, InboxStep } from './inbox';

const OPERATION_NAMES: Record<InboxOperation, string> = {
	headers: 'Get Many, limit 50, Headers Only',
	full: 'Get Many, limit 50, Full',
	search: 'Get Many, Subject Contains (5 match), Full',
};
/** The target: within 1.5× of the bare client. */
const MAX_RATIO = 1.5;
/**
 * "Memory independent of the folder's size", read as: n8n's peak growth with the large folder
 * at most this much above the small one's. n8n's RSS moves by a few MB between runs anyway.
 */
const MEMORY_SLACK_MB = 10;

const max = (values: number[]) => Math.max(...values);

function row(step: InboxStep): string {
	const parsed =
		step.floorParsedMedianMs === undefined
			? '–'
			: `${step.floorParsedMedianMs} ms (${Math.round((100 * step.oursMedianMs) / step.floorParsedMedianMs) / 100}×)`;
	return `| ${step.folderSize.toLocaleString('en-US')} | ${OPERATION_NAMES[step.operation]} | ${step.items} | ${step.oursMedianMs} ms | ${step.floorMedianMs} ms | ${step.ratio}× | ${parsed} | ${max(step.n8nGrowthMb)} MB | ${max(step.floorGrowthMb)} MB |`;
}

/** Writes the section; returns the target rows (target, measured, met). */
export function renderInbox(
	result: InboxResult,
	line: (text?: string) => void,
): Array<[string, string, boolean]> {
	const { sizes, steps } = result;
	if (steps.length === 0) return [];
	const [small, large] = [Math.min(...sizes.folderSizes), Math.max(...sizes.folderSizes)];
	line(
		`### Inbox client: Get Many on folders of ${sizes.folderSizes.map((n) => n.toLocaleString('en-US')).join(' and ')} messages`,
	);
	line();
	line(
		`Each folder is the INBOX of an inbox of its own (opened with agent@'s key through Inbox Address), its messages written straight into the maildir (${result.fillS.join(' s, ')} s) and indexed by Dovecot once before anything is measured (${result.indexS.join(' s, ')} s). A workflow Webhook → AgentMail Get Many; "node" is the median over ${sizes.rounds} runs of the node's own time as n8n measured it (executionTime: IMAP login, SELECT, SEARCH, FETCH of the 50 newest, parsing for Full, logout), after one warm-up run. The floor is a bare imapflow client in the bench's process doing the same on the wire (login, EXAMINE, the same SEARCH, one FETCH of the same messages' headers or sources, logout), not parsing; for Full also with each source parsed by mailparser's simpleParser, since a Full item is the parsed message (the node parses with mailparser's streaming parser and adds replyText, the automatic-mail verdict and warnings). Memory: n8n's peak RSS during the run above its RSS just before (the first run from a settled n8n), the largest of the runs; the floor's is the bench process's.`,
	);
	line();
	line(
		'| folder | operation | items | node (median) | bare imapflow (floor) | node / floor | bare imapflow + simpleParser (node / it) | n8n peak RSS growth | floor peak RSS growth |',
	);
	line('|---:|---|---:|---:|---:|---:|---:|---:|---:|');
	for (const step of steps) line(row(step));
	line();
	line(`n8n-nodes-imap: ${result.imapNodesPackage}.`);
	line();
	const rows: Array<[string, string, boolean]> = [];
	for (const operation of Object.keys(OPERATION_NAMES) as InboxOperation[]) {
		const at = (size: number) =>
			steps.find((step) => step.operation === operation && step.folderSize === size);
		const big = at(large);
		const little = at(small);
		if (!big) continue;
		rows.push([
			`Inbox: ${OPERATION_NAMES[operation]} within ${MAX_RATIO}× of a bare imapflow client (${large.toLocaleString('en-US')} messages)`,
			`${big.ratio}× (${big.oursMedianMs} vs ${big.floorMedianMs} ms)`,
			big.ratio <= MAX_RATIO,
		]);
		if (little && little !== big) {
			const [grownSmall, grownLarge] = [max(little.n8nGrowthMb), max(big.n8nGrowthMb)];
			rows.push([
				`Inbox: ${OPERATION_NAMES[operation]}, n8n's peak memory independent of the folder's size (within ${MEMORY_SLACK_MB} MB)`,
				`${grownSmall} MB at ${small.toLocaleString('en-US')}, ${grownLarge} MB at ${large.toLocaleString('en-US')}`,
				grownLarge <= grownSmall + MEMORY_SLACK_MB,
			]);
		}
	}
	return rows;
}
