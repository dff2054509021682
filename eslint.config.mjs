import { configWithoutCloudSupport } from '@n8n/node-cli/eslint';

export default [
	...configWithoutCloudSupport,
	{
		rules: {
			// IMAP and SMTP need imapflow, nodemailer and mailparser at run time: this is a
			// self-hosted community node (not n8n Cloud), which is what this rule exists to flag.
			'@n8n/community-nodes/no-runtime-dependencies': 'off',
		},
	},
];
