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
];
