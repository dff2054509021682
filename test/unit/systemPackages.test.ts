import { existsSync } from 'node:fs';
import path from 'node:path';

import {
	aptInstallCommand,
	planSystemPackages,
	TEST_SYSTEM_PACKAGES,
	type SystemPackage,
} from '../../tools/sandbox/systemPackages';

const ROOT = path.resolve(__dirname, '..', '..');
const file = (relative: string) => path.join(ROOT, relative);
const EDITOR = file('test/e2e/editor.e2e.test.ts');
const QUEUE = file('test/e2e/queue.e2e.test.ts');
const UNIT = file('test/unit/cursor.test.ts');

function pkg(name: string, testFiles: string[], installed: boolean): SystemPackage {
	return { name, neededBy: `the ${name} test`, testFiles, installed: () => installed };
}

const packages = [
	pkg('openssl', [], true),
	pkg('chromium', ['test/e2e/editor.e2e.test.ts'], false),
	pkg('redis-server', ['test/e2e/queue.e2e.test.ts'], false),
	pkg('postgresql', ['test/e2e/queue.e2e.test.ts'], false),
];
const root = { asRoot: true, hasAptGet: true };
const user = { asRoot: false, hasAptGet: true };

describe('planSystemPackages', () => {
	it('does nothing when the selected tests need nothing that is missing', () => {
		expect(planSystemPackages(packages, [UNIT], user)).toEqual({ action: 'none' });
		expect(planSystemPackages(packages, [], root)).toEqual({ action: 'none' });
	});

	it('as root, installs only what the selected tests need, each package once', () => {
		expect(planSystemPackages(packages, [UNIT, QUEUE], root)).toEqual({
			action: 'install',
			names: ['redis-server', 'postgresql'],
			command:
				'apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server postgresql',
		});
	});

	it('as anyone else, fails with the sudo command and what needs each package', () => {
		const plan = planSystemPackages(packages, [EDITOR, QUEUE], user);
		expect(plan.action).toBe('fail');
		const message = plan.action === 'fail' ? plan.message : '';
		expect(message).toContain(
			'sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium redis-server postgresql',
		);
		expect(message).toContain('chromium (the chromium test)');
		expect(message).toContain('npm run test:fast');
	});

	it('without apt-get, fails even as root and names the packages', () => {
		const plan = planSystemPackages(packages, [EDITOR], { asRoot: true, hasAptGet: false });
		expect(plan).toMatchObject({ action: 'fail' });
		expect(plan.action === 'fail' && plan.message).toMatch(
			/this system's package manager.*chromium/,
		);
	});

	it('a package with no test files is needed by every test', () => {
		const openssl = [pkg('openssl', [], false)];
		expect(planSystemPackages(openssl, [UNIT], root)).toMatchObject({ names: ['openssl'] });
		// ... so leaving out the tests in n8n would not help.
		const plan = planSystemPackages(openssl, [UNIT], user);
		expect(plan.action === 'fail' && plan.message).not.toContain('test:fast');
	});
});

describe('TEST_SYSTEM_PACKAGES', () => {
	it('names test files that exist', () => {
		const named = TEST_SYSTEM_PACKAGES.flatMap((entry) => entry.testFiles);
		expect(named.length).toBeGreaterThan(0);
		for (const relative of named) expect(existsSync(file(relative))).toBe(true);
	});
});

describe('aptInstallCommand', () => {
	it('puts sudo before both apt-get calls unless root', () => {
		expect(aptInstallCommand(['a', 'b'], false)).toBe(
			'sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends a b',
		);
	});
});
