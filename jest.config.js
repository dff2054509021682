/** @type {import('jest').Config} */
module.exports = {
	testEnvironment: 'node',
	transform: {
		'^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.test.json' }],
		'/node_modules/email-reply-parser/.+\\.js$': '<rootDir>/test/setup/esmToCjs.js',
	},
	// Dependencies are used as shipped, except the ES-module-only ones jest cannot load itself.
	transformIgnorePatterns: ['/node_modules/(?!email-reply-parser/)'],
	roots: ['<rootDir>/test'],
	testMatch: ['<rootDir>/test/**/*.test.ts'],
	// The compatibility matrix runs other n8n versions: npm run test:matrix (jest.matrix.config.js).
	testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/matrix/'],
	// One sandbox (Dovecot + SMTP) for the whole run, on free ports in a temporary folder;
	// tests that break servers on purpose start their own.
	globalSetup: '<rootDir>/test/setup/globalSetup.ts',
	globalTeardown: '<rootDir>/test/setup/globalTeardown.ts',
	// Two cores on the machines this runs on.
	maxWorkers: 2,
	testTimeout: 60_000,
};
