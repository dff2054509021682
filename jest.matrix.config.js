/**
 * The compatibility matrix (npm run test:matrix): test/matrix/ alone, with the same setup as the
 * main suite (one sandbox, the system packages its tests need). One n8n at a time.
 */
const main = require('./jest.config');

/** @type {import('jest').Config} */
module.exports = {
	...main,
	roots: ['<rootDir>/test/matrix'],
	testMatch: ['<rootDir>/test/matrix/**/*.test.ts'],
	testPathIgnorePatterns: ['/node_modules/'],
	maxWorkers: 1,
};
