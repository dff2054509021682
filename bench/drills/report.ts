/**
 * RELIABILITY.md from the drills' outcomes. A full run writes the whole file. A run of some
 * drills (`--only`) keeps the file as it is and saves each drill's result in
 * bench/results/drills/<id>.json; the last section of the file, "Drills run on their own", is
 * generated from those files, so every drill run that way keeps its latest result there until a
 * full run includes it again.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { loadTemplate } from '../lab/template';
import { SIDE_LABEL, type Drill, type DrillOutcome, type Row } from './drill';

/** The report's fixed prose, with placeholders (bench/templates/reliability.md). */
const fill = loadTemplate(path.join(__dirname, '..', 'templates', 'reliability.md'));

export interface DrillsRun {
	command: string;
	date: string;
	durationS: number;
	machine: { cpus: number; cpuModel: string; memoryGb: number };
	versions: { n8n: string; n8nNode: string; drillsNode: string; package: string };
	results: Array<{ drill: Drill; outcome?: DrillOutcome; failure?: string }>;
}

/** A table cell: no pipes or line breaks. */
function cell(text: string | number): string {
	return String(text)
		.replace(/\|/g, '\\|')
		.replace(/\s*\n\s*/g, ' ');
}

function rowLine(row: Row): string {
	return `| ${[
		row.drill,
		row.label ?? SIDE_LABEL[row.side],
		row.delivered,
		row.runs,
		row.duplicates,
		row.lost,
		row.recovery,
		row.userSaw,
	]
		.map(cell)
		.join(' | ')} |`;
}

export function renderReport(run: DrillsRun): string {
	const lines = fill('head', {
		command: run.command,
		date: run.date,
		minutes: Math.round(run.durationS / 60),
		seconds: run.durationS,
		cpus: run.machine.cpus,
		cpuModel: run.machine.cpuModel,
		memoryGb: run.machine.memoryGb,
		n8n: run.versions.n8n,
		n8nNode: run.versions.n8nNode,
		package: run.versions.package,
		drillsNode: run.versions.drillsNode,
	}).split('\n');
	for (const { drill, outcome, failure } of run.results) {
		if (outcome) for (const row of outcome.rows) lines.push(rowLine(row));
		else
			lines.push(
				`| ${cell(drill.title)} | both | | | | | | drill failed: ${cell(failure ?? '?')} |`,
			);
	}
	lines.push('', ...fill('notShown').split('\n'), '');
	for (const { drill, outcome, failure } of run.results) {
		lines.push(`### ${drill.title}`, '', drill.what, '');
		if (outcome && drill.explain) {
			for (const paragraph of drill.explain(outcome.rows)) lines.push(paragraph, '');
		}
		if (failure) lines.push(`The drill itself failed: \`${failure}\``, '');
		if (outcome) lines.push('Measured:', '', ...outcome.notes, '');
	}
	return lines.join('\n');
}

/** One drill's result as saved by a run of some drills: what the report needs, rendered. */
interface SavedResult {
	id: string;
	title: string;
	what: string;
	explain: string[];
	command: string;
	date: string;
	machine: DrillsRun['machine'];
	versions: DrillsRun['versions'];
	rows: Row[];
	notes: string[];
	failure?: string;
}

/** Where the results of drills run on their own are kept. */
function savedDir(root: string): string {
	return path.join(root, 'bench', 'results', 'drills');
}

/** The line the generated section starts with; everything from it on is rewritten. */
const SAVED_MARKER =
	'<!-- Generated from bench/results/drills/*.json by bench/drills/report.ts; do not edit by hand. -->';

async function readSaved(root: string): Promise<SavedResult[]> {
	const dir = savedDir(root);
	if (!existsSync(dir)) return [];
	const files = (await readdir(dir)).filter((name) => name.endsWith('.json')).sort();
	const saved = await Promise.all(
		files.map(
			async (name) => JSON.parse(await readFile(path.join(dir, name), 'utf8')) as SavedResult,
		),
	);
	return saved.sort((a, b) => a.date.localeCompare(b.date));
}

function renderSaved(saved: SavedResult[]): string[] {
	if (saved.length === 0) return [];
	const lines = [SAVED_MARKER, '', ...fill('saved').split('\n'), ''];
	for (const result of saved) {
		lines.push(
			`### ${result.title}`,
			'',
			`- Command: \`${result.command}\`; date: ${result.date}`,
			`- Machine: ${result.machine.cpus} cores (${result.machine.cpuModel}), ${result.machine.memoryGb} GB RAM, shared with other work: counts are what matters here, times are rough`,
			`- Versions: n8n ${result.versions.n8n} on Node ${result.versions.n8nNode}; n8n-nodes-agentmail-inbox ${result.versions.package}`,
			'',
			result.what,
			'',
		);
		if (result.rows.length) {
			lines.push(
				'| Fault | Side | Delivered | Runs started | Duplicates | Lost | Time to recover | What the user saw |',
				'|---|---|---:|---:|---:|---:|---|---|',
				...result.rows.map(rowLine),
				'',
			);
		}
		for (const paragraph of result.explain) lines.push(paragraph, '');
		if (result.failure) lines.push(`The drill itself failed: \`${result.failure}\``, '');
		if (result.notes.length) lines.push('Measured:', '', ...result.notes, '');
	}
	return lines;
}

/** Where a full run keeps its results, for RELIABILITY.md to be written again from them. */
function fullRunFile(root: string): string {
	return path.join(root, 'bench', 'results', 'drills.json');
}

/** A full run as saved: what it measured, by drill id (titles and prose come from the code). */
export interface SavedRun extends Omit<DrillsRun, 'results'> {
	results: Array<{ id: string; outcome?: DrillOutcome; failure?: string }>;
}

/** The last full run's results with the drills' current titles and prose (`--report-only`). */
export function readFullRun(root: string, drills: Drill[]): DrillsRun {
	const saved = JSON.parse(readFileSync(fullRunFile(root), 'utf8')) as SavedRun;
	const results = saved.results.map(({ id, outcome, failure }) => {
		const drill = drills.find((candidate) => candidate.id === id);
		if (!drill) throw new Error(`${fullRunFile(root)}: no drill called ${id}`);
		return { drill, outcome, failure };
	});
	return { ...saved, results };
}

/**
 * A full run: the whole file, the saved results of drills it did not run kept in the last
 * section (the ones it ran are dropped, their results are in the main table now). With
 * `reportOnly` (the saved full run written again) nothing is saved or dropped.
 */
export async function writeReport(
	run: DrillsRun,
	root: string,
	{ reportOnly = false } = {},
): Promise<string> {
	const file = path.join(root, 'RELIABILITY.md');
	if (!reportOnly) {
		const ran = new Set(run.results.map(({ drill }) => drill.id));
		for (const { id } of (await readSaved(root)).filter((saved) => ran.has(saved.id))) {
			await rm(path.join(savedDir(root), `${id}.json`), { force: true });
		}
		const saved: SavedRun = {
			...run,
			results: run.results.map(({ drill, outcome, failure }) => ({
				id: drill.id,
				...(outcome ? { outcome } : {}),
				...(failure ? { failure } : {}),
			})),
		};
		await writeFile(fullRunFile(root), `${JSON.stringify(saved, null, '\t')}\n`);
	}
	const kept = renderSaved(await readSaved(root));
	await writeFile(file, [renderReport(run), ...kept].join('\n'));
	return file;
}

/**
 * A run of some drills: saves their results and regenerates the last section of the file from
 * every saved result; the rest of the file stays as it is.
 */
export async function writeSavedResults(run: DrillsRun, root: string): Promise<string> {
	await mkdir(savedDir(root), { recursive: true });
	for (const { drill, outcome, failure } of run.results) {
		const saved: SavedResult = {
			id: drill.id,
			title: drill.title,
			what: drill.what,
			explain: outcome && drill.explain ? drill.explain(outcome.rows) : [],
			command: run.command,
			date: run.date,
			machine: run.machine,
			versions: run.versions,
			rows: outcome?.rows ?? [],
			notes: outcome?.notes ?? [],
			...(failure ? { failure } : {}),
		};
		await writeFile(
			path.join(savedDir(root), `${drill.id}.json`),
			`${JSON.stringify(saved, null, '\t')}\n`,
		);
	}
	const file = path.join(root, 'RELIABILITY.md');
	const current = existsSync(file) ? readFileSync(file, 'utf8') : '';
	const at = current.indexOf(SAVED_MARKER);
	const head = (at >= 0 ? current.slice(0, at) : current).replace(/\n*$/, '\n\n');
	await writeFile(file, head + renderSaved(await readSaved(root)).join('\n'));
	return file;
}
