/**
 * The compatibility matrix (npm run test:matrix): test/matrix/ alone, with the same setup as the
 * main suite's integration project (one sandbox, the system packages its tests need). One n8n at
 * a time.
 */
const { projects, ...main } = require('./jest.config');

const integration = projects.find((project) => project.displayName === 'integration');

/** @type {import('jest').Config} */
module.exports = {
	...main,
	...integration,
	displayName: 'matrix',
	roots: ['<rootDir>/test/matrix'],
	testMatch: ['<rootDir>/test/matrix/**/*.test.ts'],
	testPathIgnorePatterns: ['/node_modules/'],
	maxWorkers: 1,
};
