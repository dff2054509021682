import { configWithoutCloudSupport } from '@n8n/node-cli/eslint';

export default [
	...configWithoutCloudSupport,
	{
		rules: {
			// IMAP and SMTP need imapflow, nodemailer and mailparser at run time: this is a
			// self-hosted community node (not n8n Cloud), which is what this rule exists to flag.
			'@n8n/community-nodes/no-runtime-dependencies': 'off',
			// No real address of the maintainers is known yet, and a made-up one is worse than none.
			// The publish workflow refuses to publish without author.email and repository.url.
			'@n8n/community-nodes/valid-author': 'off',
		},
	},
	{
		// The rule is about what a node shows in n8n; the dev tooling is not a node.
		files: ['scripts/**', 'test/**', 'bench/**', 'tools/**'],
		rules: { '@n8n/community-nodes/require-node-api-error': 'off' },
	},
	{
		// n8n's layout for nodes with resources (e.g. its Postgres v2 node) keeps the description
		// in actions/versionDescription.ts. These rules take any file holding a description for
		// a node file; the node class adds the subtitle (with the icon and usableAsTool), where
		// the community rules look for them.
		files: ['nodes/*/actions/versionDescription.ts'],
		rules: {
			'n8n-nodes-base/node-filename-against-convention': 'off',
			'n8n-nodes-base/node-class-description-missing-subtitle': 'off',
		},
	},
	{
		// The trigger has no resources: its description is in description.ts beside the node file.
		files: ['nodes/AgentMailTrigger/description.ts'],
		rules: { 'n8n-nodes-base/node-filename-against-convention': 'off' },
	},
	{
		// The protocol code stays free of n8n, so that the tests, the benchmarks and both nodes
		// use it as it is; only methods/ adapts it to n8n's interfaces.
		files: ['nodes/shared/**/*.ts'],
		ignores: ['nodes/shared/methods/**'],
		rules: {
			'no-restricted-imports': [
				'error',
				{
					patterns: [
						{
							group: ['n8n-workflow', 'n8n-workflow/*', 'n8n-core', 'n8n-core/*'],
							message:
								'nodes/shared/** is plain protocol code without n8n imports; adapt it in nodes/shared/methods/** or in the node.',
						},
					],
				},
			],
		},
	},
	{
		// No import cycles in the product: each module can be read, and tested, after what it uses.
		// import-x follows only the extensions named here (by default .js): without .ts it reads
		// no module of ours and sees no cycle.
		files: ['nodes/**/*.ts', 'credentials/**/*.ts'],
		settings: { 'import-x/extensions': ['.ts', '.js'] },
		rules: { 'import-x/no-cycle': 'error' },
	},
	{
		// Two IMAP stacks: the trigger's long-lived session (imap/watch/) and the action node's
		// one-shot client (imap/). Neither imports the other; what both need is in nodes/shared/.
		files: ['nodes/shared/imap/**/*.ts'],
		rules: {
			'import-x/no-restricted-paths': [
				'error',
				{
					zones: [
						{
							target: './nodes/shared/imap/watch/**',
							from: './nodes/shared/imap/*.ts',
							message: 'The trigger session (imap/watch/) does not use the one-shot client.',
						},
						{
							target: './nodes/shared/imap/*.ts',
							from: './nodes/shared/imap/watch/**',
							message: 'The one-shot client (imap/) does not use the trigger session.',
						},
					],
				},
			],
		},
	},
	{
		// The dev tooling: tools/ (sandbox, n8n, waiting, proxies, harness) is what test/, bench/
		// and scripts/ share; it imports none of them, and they do not import each other.
		files: ['tools/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'],
		settings: { 'import-x/extensions': ['.ts', '.js'] },
		rules: {
			'import-x/no-restricted-paths': [
				'error',
				{
					zones: [
						{
							target: './tools',
							from: ['./test', './bench', './scripts'],
							message: 'tools/ is shared by test/, bench/ and scripts/ and imports none of them.',
						},
						{
							target: './test',
							from: ['./bench', './scripts'],
							message: 'test/ takes shared tooling from tools/, not from bench/ or scripts/.',
						},
						{
							target: './bench',
							from: ['./test', './scripts'],
							message: 'bench/ takes shared tooling from tools/, not from test/ or scripts/.',
						},
						{
							target: './scripts',
							from: ['./test', './bench'],
							message: 'scripts/ takes shared tooling from tools/, not from test/ or bench/.',
						},
					],
				},
			],
		},
	},
];
