'use strict';
/**
 * Benchmark-only trigger (never published): on activation it emits `count` items, `perRun` to a
 * run, one run after another as fast as n8n takes them or `intervalMs` apart, each run with a
 * deduplication key as the AgentMail Trigger passes one. Each item holds the time of its emit;
 * with "Mail-Sized Items" it also carries what a parsed bench mail carries (2 KB of text, every
 * other one 50 KB of HTML); with "Save Position" it changes its static data before each emit, as
 * a mail trigger keeping its watermark does. What n8n itself costs per run and per item, with no
 * mail work. "Start At" (epoch ms) holds the first emit until then, so that emits can start at the
 * same moment as something else the bench does. With a credential set on the node, n8n checks
 * the workflow's access to it before each run, as for any trigger with one; "Read Credential"
 * also reads it at activation, as a mail trigger does before it connects.
 */
class BenchEmitter {
	constructor() {
		this.description = {
			displayName: 'Bench Emitter',
			name: 'benchEmitter',
			group: ['trigger'],
			version: 1,
			description: 'Emits runs without reading mail (benchmarks only)',
			defaults: { name: 'Bench Emitter' },
			inputs: [],
			outputs: ['main'],
			// Optional, never read: with one set, n8n checks access to it before each run, as it
			// does for the mail triggers' credentials.
			credentials: [{ name: 'agentMailInboxApi', required: false }],
			properties: [
				{ displayName: 'Items', name: 'count', type: 'number', default: 1000 },
				{ displayName: 'Items per Run', name: 'perRun', type: 'number', default: 1 },
				{ displayName: 'Pause Between Runs (Ms)', name: 'intervalMs', type: 'number', default: 0 },
				{ displayName: 'Mail-Sized Items', name: 'mailSized', type: 'boolean', default: false },
				{ displayName: 'Save Position', name: 'savePosition', type: 'boolean', default: false },
				{ displayName: 'Start At (Epoch Ms)', name: 'startAt', type: 'number', default: 0 },
				{ displayName: 'Read Credential', name: 'readCredential', type: 'boolean', default: false },
			],
		};
	}

	async trigger() {
		const count = this.getNodeParameter('count');
		const perRun = Math.max(1, this.getNodeParameter('perRun', 1));
		const intervalMs = this.getNodeParameter('intervalMs', 0);
		const mailSized = this.getNodeParameter('mailSized', false);
		const savePosition = this.getNodeParameter('savePosition', false);
		const startAt = this.getNodeParameter('startAt', 0);
		const staticData = this.getWorkflowStaticData('node');
		const workflow = this.getWorkflow().id;
		const text = 'lorem ipsum dolor sit amet, consectetur adipiscing elit. '
			.repeat(36)
			.slice(0, 2000);
		const html = `<html><body><p>${'lorem ipsum dolor sit amet. '.repeat(1800).slice(0, 50000)}</p></body></html>`;
		let stopped = false;
		const emitAll = async () => {
			const wait = startAt - Date.now();
			if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
			for (let first = 0; first < count && !stopped; first += perRun) {
				const emittedAt = Date.now();
				const items = [];
				for (let i = first; i < Math.min(count, first + perRun); i++) {
					const json = { i, emittedAt };
					if (mailSized)
						Object.assign(json, { subject: `item ${i}`, text, html: i % 2 === 1 ? html : null });
					items.push({ json });
				}
				// As a mail trigger keeps its watermark: changed static data, which n8n saves with the emit.
				if (savePosition) staticData.lastEmitted = String(first);
				this.emit([items], undefined, undefined, `bench:${workflow}:${emittedAt}:${first}`);
				// Yield between emits, as a trigger that reads mail does between messages.
				if (intervalMs > 0) await new Promise((resolve) => setTimeout(resolve, intervalMs));
				else await new Promise((resolve) => setImmediate(resolve));
			}
		};
		if (this.getNodeParameter('readCredential', false))
			await this.getCredentials('agentMailInboxApi');
		if (this.getMode() === 'trigger') {
			// The moment n8n started this trigger, for the scale timeline's floor (info: no timestamp).
			this.logger.info('Bench Emitter started', { workflowId: workflow });
			void emitAll();
		}
		return {
			closeFunction: async () => {
				stopped = true;
			},
		};
	}
}

module.exports = { BenchEmitter };
