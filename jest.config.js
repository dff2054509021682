/** @type {import('jest').Config} */
module.exports = {
	testEnvironment: 'node',
	transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.test.json' }] },
	testMatch: ['<rootDir>/test/**/*.test.ts'],
	// One sandbox (Dovecot + SMTP) for the whole run, on free ports in a temporary folder;
	// tests that break servers on purpose start their own.
	globalSetup: '<rootDir>/test/setup/globalSetup.ts',
	globalTeardown: '<rootDir>/test/setup/globalTeardown.ts',
	// Two cores on the machines this runs on.
	maxWorkers: 2,
	testTimeout: 60_000,
};
