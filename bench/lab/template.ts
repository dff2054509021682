/**
 * Report prose kept in markdown beside the code that fills it in. A template file holds parts,
 * each after a line `<!-- part: name -->`; `{{name}}` in a part stands for a value the code
 * gives. A part is used without its blank lines at either end.
 */
import { readFileSync } from 'node:fs';

const PART = /^<!-- part: ([\w.-]+) -->$/gm;

export type Fill = (part: string, values?: Record<string, string | number>) => string;

/** The parts of `file`, and a function that fills one in (throws on a name it lacks). */
export function loadTemplate(file: string): Fill {
	const text = readFileSync(file, 'utf8');
	const parts = new Map<string, string>();
	const marks = [...text.matchAll(PART)];
	marks.forEach((mark, i) => {
		const end = i + 1 < marks.length ? marks[i + 1].index : text.length;
		const body = text.slice(mark.index + mark[0].length, end);
		parts.set(mark[1], body.replace(/^\n+/, '').replace(/\s+$/, ''));
	});
	return (part, values = {}) => {
		const body = parts.get(part);
		if (body === undefined) throw new Error(`${file}: no part ${part}`);
		return body.replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
			if (!(name in values)) throw new Error(`${file}, part ${part}: no value for {{${name}}}`);
			return String(values[name]);
		});
	};
}
