/**
 * Loaded into n8n with `node --require` by emailTriggerBatching.ts: gives the imapflow that
 * n8n's own Email Trigger (IMAP) uses (through @n8n/imap, which passes `logger: false`) a
 * logger that appends each protocol line and state message to a file, stamped when it was
 * logged. Only that copy of imapflow is touched (its path is given), not the one our trigger
 * loads. With BENCH_IMAPFLOW_IDLE_DELAY_FILE, every new client gets the `autoIdleDelay` read
 * from that file (ms; the file absent or empty: imapflow's default).
 */
'use strict';
const fs = require('node:fs');

const modulePath = process.env.BENCH_IMAPFLOW_MODULE;
const traceFile = process.env.BENCH_IMAPFLOW_TRACE;
const delayFile = process.env.BENCH_IMAPFLOW_IDLE_DELAY_FILE;

if (modulePath && traceFile) {
	const imapflow = require(modulePath);
	const Original = imapflow.ImapFlow;

	const write = (level, entry) => {
		if (!entry || typeof entry !== 'object') return;
		const line = { t: Date.now(), level, cid: entry.cid, src: entry.src, msg: entry.msg };
		if (entry.comment) line.comment = entry.comment;
		fs.appendFileSync(traceFile, `${JSON.stringify(line)}\n`);
	};
	const logger = {
		debug: (entry) => write('debug', entry),
		info: (entry) => write('info', entry),
		warn: (entry) => write('warn', entry),
		error: (entry) => write('error', entry),
	};

	const idleDelay = () => {
		if (!delayFile || !fs.existsSync(delayFile)) return undefined;
		const text = fs.readFileSync(delayFile, 'utf8').trim();
		return text === '' ? undefined : Number(text);
	};

	imapflow.ImapFlow = class TracedImapFlow extends Original {
		constructor(options) {
			const delay = idleDelay();
			super({ ...options, logger, ...(delay === undefined ? {} : { autoIdleDelay: delay }) });
			write('info', {
				cid: this.id,
				msg: `client created, autoIdleDelay ${this.autoIdleDelay} ms`,
			});
		}
	};
}
