/**
 * The drills' verdicts, kept in bench/templates/drills.md: a drill's explain() picks its part
 * and gives the values that depend on what happened.
 */
import path from 'node:path';

import { loadTemplate } from '../lab/template';

/** One part of the template, filled in (a phrase inside a verdict). */
export const prose = loadTemplate(path.join(__dirname, '..', 'templates', 'drills.md'));

/** A drill's verdict: its part filled in, one string per paragraph. */
export function verdict(part: string, values?: Record<string, string | number>): string[] {
	return prose(part, values).split('\n\n');
}
