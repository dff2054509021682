import {
	DEFAULT_POLL_INTERVAL_MS,
	MAX_POLL_INTERVAL_MS,
	MIN_POLL_INTERVAL_MS,
	pollIntervalMs,
} from '../../nodes/shared/imap/watch/poll';

describe('pollIntervalMs', () => {
	it('takes the seconds set, in ms', () => {
		expect(pollIntervalMs(45)).toBe(45_000);
		expect(pollIntervalMs('12')).toBe(12_000);
	});

	it('gives the default when nothing or no number is set', () => {
		for (const value of [undefined, null, '', 'soon', Number.NaN]) {
			expect(pollIntervalMs(value)).toBe(DEFAULT_POLL_INTERVAL_MS);
		}
	});

	it('keeps the interval within its bounds', () => {
		expect(pollIntervalMs(0)).toBe(MIN_POLL_INTERVAL_MS);
		expect(pollIntervalMs(-3)).toBe(MIN_POLL_INTERVAL_MS);
		expect(pollIntervalMs(86_400)).toBe(MAX_POLL_INTERVAL_MS);
	});
});
