/**
 * Three projects: `unit` (test/unit, no sandbox: npm run test:unit), `integration`
 * (test/integration, against the sandbox) and `e2e` (test/e2e, the package in a real n8n, also
 * against the sandbox). `npm test` runs all three; the compatibility matrix has its own config
 * (jest.matrix.config.js).
 */

/** What every project shares: TypeScript through ts-jest, in Node. */
const common = {
	testEnvironment: 'node',
	transform: {
		'^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.test.json' }],
		'/node_modules/email-reply-parser/.+\\.js$': '<rootDir>/test/setup/esmToCjs.js',
	},
	// Dependencies are used as shipped, except the ES-module-only ones jest cannot load itself.
	transformIgnorePatterns: ['/node_modules/(?!email-reply-parser/)'],
	testMatch: ['<rootDir>/test/**/*.test.ts'],
};

/** A project whose tests run against the sandbox. */
function sandboxProject(name, globalSetup) {
	return {
		...common,
		displayName: name,
		roots: [`<rootDir>/test/${name}`],
		// One sandbox (Dovecot + SMTP) for the whole run, on free ports in a temporary folder,
		// started once however many of these projects run; tests that break servers on purpose
		// start their own. jest calls each globalSetup module once, with the first project
		// naming it, hence one module per project: each installs its own tests' system packages.
		globalSetup: `<rootDir>/test/setup/${globalSetup}`,
		globalTeardown: '<rootDir>/test/setup/globalTeardown.ts',
	};
}

/** @type {import('jest').Config} */
module.exports = {
	projects: [
		{ ...common, displayName: 'unit', roots: ['<rootDir>/test/unit'] },
		sandboxProject('integration', 'globalSetup.ts'),
		sandboxProject('e2e', 'e2eGlobalSetup.ts'),
	],
	// Two cores on the machines this runs on.
	maxWorkers: 2,
	// jest-circus takes the timeout from here, not from a project.
	testTimeout: 60_000,
};
