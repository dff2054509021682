/**
 * Limit Wait Time: when a waiting execution goes on without an answer. n8n resumes it at that
 * moment with the node's input item, as its own Send and Wait nodes do.
 */
import { InputError } from '../errors';

/** The option as n8n's Send and Wait nodes write it (`options.limitWaitTime.values`). */
export interface WaitLimitInput {
	limitType?: 'afterTimeInterval' | 'atSpecifiedTime';
	resumeAmount?: number;
	resumeUnit?: 'minutes' | 'hours' | 'days';
	maxDateAndTime?: string;
}

const UNIT_MS = { minutes: 60_000, hours: 3_600_000, days: 86_400_000 } as const;

/**
 * The moment to stop waiting, or null to wait until answered.
 *
 * @throws InputError when the limit is not a time to come (a past date, an amount of zero).
 */
export function waitUntil(limit: WaitLimitInput | undefined, now = Date.now()): Date | null {
	if (!limit || Object.keys(limit).length === 0) return null;
	if ((limit.limitType ?? 'afterTimeInterval') === 'afterTimeInterval') {
		const amount = Number(limit.resumeAmount ?? 1);
		const unit = UNIT_MS[limit.resumeUnit ?? 'hours'];
		if (!Number.isFinite(amount) || amount <= 0 || unit === undefined) {
			throw new InputError(
				`Limit Wait Time is ${limit.resumeAmount} ${limit.resumeUnit ?? 'hours'}: set an amount above zero, or remove the limit to wait until answered.`,
			);
		}
		return new Date(now + amount * unit);
	}
	const at = new Date(String(limit.maxDateAndTime ?? ''));
	if (Number.isNaN(at.getTime())) {
		throw new InputError(
			`Limit Wait Time's date "${limit.maxDateAndTime ?? ''}" is not a date: use e.g. 2026-12-31T17:00:00Z.`,
		);
	}
	if (at.getTime() <= now) {
		throw new InputError(
			`Limit Wait Time's date ${at.toISOString()} has passed: nobody could answer in time. Set a date to come.`,
		);
	}
	return at;
}
