/** The send pipeline alone, with fake sends the test finishes by hand. */
import { setImmediate as nextTurn } from 'node:timers/promises';

import { SendPipeline, type SendOutcome } from '../../nodes/AgentMail/helpers/sendPipeline';

/** A send the test controls: when its body has been read, and how it ends. */
interface FakeSend {
	started: boolean;
	bodyRead: () => void;
	resolve: (value: string) => void;
	reject: (error: Error) => void;
	send: (bodyRead: () => void) => Promise<string>;
}

function fakeSend(): FakeSend {
	const fake = { started: false } as FakeSend;
	fake.send = (bodyRead) => {
		fake.started = true;
		fake.bodyRead = bodyRead;
		return new Promise<string>((resolve, reject) => {
			fake.resolve = resolve;
			fake.reject = reject;
		});
	};
	return fake;
}

/** Whether `promise` has settled after a few turns of the event loop. */
async function hasSettled(promise: Promise<unknown>): Promise<boolean> {
	let settled = false;
	void promise.then(
		() => (settled = true),
		() => (settled = true),
	);
	for (let turn = 0; turn < 3; turn++) await nextTurn();
	return settled;
}

function recordingPipeline(): {
	pipeline: SendPipeline<string>;
	reports: Array<[number, SendOutcome<string>]>;
} {
	const reports: Array<[number, SendOutcome<string>]> = [];
	const pipeline = new SendPipeline<string>((i, outcome) => reports.push([i, outcome]));
	return { pipeline, reports };
}

describe('SendPipeline', () => {
	it('reads the next item only once the previous body was read, and reports in item order', async () => {
		const { pipeline, reports } = recordingPipeline();
		const sends = [fakeSend(), fakeSend(), fakeSend()];
		const events: string[] = [];
		// The loop runSmtp runs: wait for the body, build, settle the previous send, start.
		const loop = (async () => {
			for (let i = 0; i < sends.length; i++) {
				await pipeline.bodyOnTheWay();
				events.push(`build ${i}`);
				await pipeline.settle();
				events.push(`start ${i}`);
				pipeline.start(i, sends[i].send);
			}
			await pipeline.settle();
		})();

		await nextTurn();
		expect(events).toEqual(['build 0', 'start 0']);
		expect(pipeline.inFlightIndex).toBe(0);
		// Item 0 is still in MAIL FROM, RCPT TO or DATA: item 1 is not read yet.
		expect(await hasSettled(loop)).toBe(false);
		expect(events).toEqual(['build 0', 'start 0']);

		sends[0].bodyRead();
		await nextTurn();
		await nextTurn();
		// Item 1 is built while item 0's reply is awaited, and starts only once item 0 has ended.
		expect(events).toEqual(['build 0', 'start 0', 'build 1']);
		expect(sends[1].started).toBe(false);
		sends[0].resolve('sent 0');
		await nextTurn();
		expect(events).toEqual(['build 0', 'start 0', 'build 1', 'start 1']);
		expect(sends[1].started).toBe(true);
		expect(pipeline.inFlightIndex).toBe(1);

		// A send that ends without its body read (only validated) lets the next item be read.
		sends[1].resolve('validated 1');
		await nextTurn();
		await nextTurn();
		expect(events).toEqual(['build 0', 'start 0', 'build 1', 'start 1', 'build 2', 'start 2']);
		sends[2].bodyRead();
		sends[2].resolve('sent 2');
		await loop;

		expect(reports).toEqual([
			[0, { ok: true, value: 'sent 0' }],
			[1, { ok: true, value: 'validated 1' }],
			[2, { ok: true, value: 'sent 2' }],
		]);
		expect(pipeline.inFlightIndex).toBeUndefined();
	});

	it('waits a turn after the body was read before the next item is read', async () => {
		const { pipeline } = recordingPipeline();
		const send = fakeSend();
		pipeline.start(0, send.send);
		const onTheWay = pipeline.bodyOnTheWay();
		let ready = false;
		void onTheWay.then(() => (ready = true));
		send.bodyRead();
		// The connection writes the body's end mark in the turn that read the body.
		await Promise.resolve();
		await Promise.resolve();
		expect(ready).toBe(false);
		await nextTurn();
		await nextTurn();
		expect(ready).toBe(true);
		send.resolve('sent');
		await pipeline.settle();
	});

	it('reports a failed send in its turn, not when it fails', async () => {
		const { pipeline, reports } = recordingPipeline();
		const first = fakeSend();
		pipeline.start(0, first.send);
		const failure = new Error('550 mailbox unavailable');
		first.reject(failure);
		// The failure ends the send, so the next item may be read ...
		expect(await hasSettled(pipeline.bodyOnTheWay())).toBe(true);
		// ... but it is reported only when the send is settled.
		expect(reports).toEqual([]);
		await pipeline.settle();
		expect(reports).toEqual([[0, { ok: false, error: failure }]]);
	});

	it('reports a send that throws before it returns as a failure', async () => {
		const { pipeline, reports } = recordingPipeline();
		const failure = new Error('no session');
		pipeline.start(3, () => {
			throw failure;
		});
		await pipeline.settle();
		expect(reports).toEqual([[3, { ok: false, error: failure }]]);
	});

	it('passes on what reporting throws, with nothing left in flight', async () => {
		const stop = new Error('stop: continueOnFail is off');
		const pipeline = new SendPipeline<string>((_, outcome) => {
			if (!outcome.ok) throw stop;
		});
		const send = fakeSend();
		pipeline.start(0, send.send);
		send.reject(new Error('421 closing'));
		await expect(pipeline.settle()).rejects.toBe(stop);
		expect(pipeline.inFlightIndex).toBeUndefined();
		// Nothing is reported twice.
		await expect(pipeline.settle()).resolves.toBeUndefined();
	});

	it('settles at once, reporting nothing, when nothing is in flight', async () => {
		const { pipeline, reports } = recordingPipeline();
		expect(pipeline.inFlightIndex).toBeUndefined();
		await expect(pipeline.settle()).resolves.toBeUndefined();
		expect(await hasSettled(pipeline.bodyOnTheWay())).toBe(true);
		expect(reports).toEqual([]);
	});

	it('refuses to start a send while another is in flight', async () => {
		const { pipeline, reports } = recordingPipeline();
		const first = fakeSend();
		const second = fakeSend();
		pipeline.start(0, first.send);
		expect(() => pipeline.start(1, second.send)).toThrow(
			'item 1 was started while item 0 is in flight',
		);
		expect(second.started).toBe(false);
		first.resolve('sent 0');
		await pipeline.settle();
		expect(reports).toEqual([[0, { ok: true, value: 'sent 0' }]]);
	});
});
