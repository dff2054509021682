import { waitUntil } from '../../../nodes/shared/sendAndWait/waitLimit';

const now = Date.parse('2026-12-07T12:00:00Z');

describe('waitUntil', () => {
	it('no limit: wait until answered', () => {
		expect(waitUntil(undefined, now)).toBeNull();
		expect(waitUntil({}, now)).toBeNull();
	});

	it('after an interval, or at a date to come', () => {
		expect(
			waitUntil(
				{ limitType: 'afterTimeInterval', resumeAmount: 45, resumeUnit: 'minutes' },
				now,
			)?.toISOString(),
		).toBe('2026-12-07T12:45:00.000Z');
		expect(
			waitUntil(
				{ limitType: 'afterTimeInterval', resumeAmount: 1.5, resumeUnit: 'days' },
				now,
			)?.toISOString(),
		).toBe('2026-12-09T00:00:00.000Z');
		expect(
			waitUntil(
				{ limitType: 'atSpecifiedTime', maxDateAndTime: '2026-12-08T09:00:00Z' },
				now,
			)?.toISOString(),
		).toBe('2026-12-08T09:00:00.000Z');
	});

	it('refuses a date that has passed, a date that is none, and an amount of zero', () => {
		expect(() =>
			waitUntil({ limitType: 'atSpecifiedTime', maxDateAndTime: '2026-12-07T11:59:59Z' }, now),
		).toThrow('has passed');
		expect(() =>
			waitUntil({ limitType: 'atSpecifiedTime', maxDateAndTime: 'tomorrow' }, now),
		).toThrow('is not a date');
		expect(() =>
			waitUntil({ limitType: 'afterTimeInterval', resumeAmount: 0, resumeUnit: 'hours' }, now),
		).toThrow('above zero');
	});
});
