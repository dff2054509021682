/**
 * `npm ci` refuses a lock file that lacks an optional dependency of a package it records, even a
 * binary for another platform. npm 11 has been seen writing only this platform's binaries of
 * unrs-resolver (an eslint dependency); this test finds such a lock before CI's `npm ci` does.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

interface LockedPackage {
	optionalDependencies?: Record<string, string>;
}

const LOCK_FILE = path.resolve(__dirname, '..', '..', 'package-lock.json');

/** Whether `dependency`, required from the package at `from`, resolves to a locked package. */
function resolves(packages: Record<string, LockedPackage>, from: string, dependency: string) {
	let folder = from;
	for (;;) {
		const prefix = folder === '' ? '' : `${folder}/`;
		if (packages[`${prefix}node_modules/${dependency}`]) return true;
		if (folder === '') return false;
		const parent = folder.lastIndexOf('/node_modules/');
		folder = parent < 0 ? '' : folder.slice(0, parent);
	}
}

describe('package-lock.json', () => {
	it('records every optional dependency, for every platform, so npm ci accepts it', () => {
		const lock = JSON.parse(readFileSync(LOCK_FILE, 'utf8')) as {
			packages: Record<string, LockedPackage>;
		};
		const missing = Object.entries(lock.packages).flatMap(([location, locked]) =>
			Object.keys(locked.optionalDependencies ?? {})
				.filter((dependency) => !resolves(lock.packages, location, dependency))
				.map((dependency) => `${location || '(root)'} -> ${dependency}`),
		);
		// When this fails: `npm install` adds the missing entries to the lock file; commit it.
		expect(missing).toEqual([]);
	});
});
