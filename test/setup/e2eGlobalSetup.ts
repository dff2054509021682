/**
 * The e2e project's globalSetup: the same as the integration project's, under another name so
 * that jest calls it too, with the e2e project's config (it calls each globalSetup module once).
 * The sandbox starts once for both; this installs what the e2e tests need besides.
 */
export { default } from './globalSetup';
