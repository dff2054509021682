'use strict';
/**
 * Benchmark-only trigger (never published): on activation it emits `count` runs of one empty
 * item each, one after another as fast as n8n takes them, each with a deduplication key as the
 * AgentMail Trigger passes one. What n8n itself costs per run, with no mail work at all.
 */
class BenchEmitter {
	constructor() {
		this.description = {
			displayName: 'Bench Emitter',
			name: 'benchEmitter',
			group: ['trigger'],
			version: 1,
			description: 'Emits empty runs (benchmarks only)',
			defaults: { name: 'Bench Emitter' },
			inputs: [],
			outputs: ['main'],
			properties: [{ displayName: 'Runs', name: 'count', type: 'number', default: 1000 }],
		};
	}

	async trigger() {
		const count = this.getNodeParameter('count');
		const workflow = this.getWorkflow().id;
		let stopped = false;
		const emitAll = async () => {
			for (let i = 0; i < count && !stopped; i++) {
				this.emit([[{ json: { i } }]], undefined, undefined, `bench:${workflow}:${Date.now()}:${i}`);
				// Yield between emits, as a trigger that reads mail does between messages.
				await new Promise((resolve) => setImmediate(resolve));
			}
		};
		if (this.getMode() === 'trigger') void emitAll();
		return {
			closeFunction: async () => {
				stopped = true;
			},
		};
	}
}

module.exports = { BenchEmitter };
