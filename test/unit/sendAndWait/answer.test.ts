import { answer, type AnswerConfig } from '../../../nodes/shared/sendAndWait/answer';
import { isAutomated } from '../../../nodes/shared/sendAndWait/bots';
import { checkFields } from '../../../nodes/shared/sendAndWait/form';

const BROWSER =
	'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Version/17.5 Safari/605.1.15';
const now = new Date('2026-12-07T12:00:00Z');

const approval: AnswerConfig = {
	responseType: 'approval',
	message: 'Refund <order> 1042?',
	title: 'Refund?',
	approveLabel: 'Yes',
	disapproveLabel: 'No',
	submitLabel: 'Submit',
	fields: [],
};

describe('answer', () => {
	it('a GET shows the page and records nothing, whoever sends it', () => {
		for (const userAgent of [BROWSER, undefined, 'Googlebot/2.1']) {
			const outcome = answer(approval, { method: 'GET', approved: true, userAgent, body: {} }, now);
			expect(outcome.kind).toBe('page');
			if (outcome.kind !== 'page') continue;
			expect(outcome.html).toContain('Refund &lt;order&gt; 1042?');
			expect(outcome.html).toContain(
				'<form method="post" action="" enctype="multipart/form-data">',
			);
			expect(outcome.html).toContain('>Yes</button>');
		}
		const decline = answer(approval, {
			method: 'GET',
			approved: false,
			userAgent: BROWSER,
			body: {},
		});
		expect(decline.kind === 'page' && decline.html).toContain('class="secondary">No</button>');
	});

	it('a person’s POST records the decision of the link; an automated one is ignored', () => {
		expect(
			answer(approval, { method: 'POST', approved: false, userAgent: BROWSER, body: {} }, now),
		).toMatchObject({
			kind: 'answer',
			data: { approved: false, respondedAt: '2026-12-07T12:00:00.000Z' },
		});
		expect(answer(approval, { method: 'POST', approved: true, userAgent: '', body: {} }).kind).toBe(
			'ignored',
		);
	});

	it('free text needs an answer', () => {
		const config = { ...approval, responseType: 'freeText' as const };
		const empty = answer(config, {
			method: 'POST',
			approved: true,
			userAgent: BROWSER,
			body: { text: ' ' },
		});
		expect(empty).toMatchObject({ kind: 'page', status: 400 });
		expect(
			answer(
				config,
				{ method: 'POST', approved: true, userAgent: BROWSER, body: { text: ' ok ' } },
				now,
			),
		).toMatchObject({
			kind: 'answer',
			data: { text: 'ok' },
		});
	});

	it('a custom form answer with a problem shows the form again with the reason; respondedAt cannot be overridden', () => {
		const config = {
			...approval,
			responseType: 'customForm' as const,
			fields: checkFields([{ fieldLabel: 'respondedAt', requiredField: true }]),
		};
		const missing = answer(config, {
			method: 'POST',
			approved: true,
			userAgent: BROWSER,
			body: {},
		});
		expect(missing.kind === 'page' && missing.html).toContain(
			'&quot;respondedAt&quot; is required.',
		);
		expect(
			answer(
				config,
				{ method: 'POST', approved: true, userAgent: BROWSER, body: { 'field-0': 'x' } },
				now,
			),
		).toMatchObject({
			kind: 'answer',
			data: { respondedAt: '2026-12-07T12:00:00.000Z' },
		});
	});
});

describe('isAutomated', () => {
	it('takes browsers for people and scanners, previews and crawlers for machines', () => {
		expect(isAutomated(BROWSER)).toBe(false);
		for (const agent of [
			undefined,
			'',
			'Mozilla/5.0 (compatible; bingbot/2.0)',
			'Slackbot-LinkExpanding 1.0',
			'SkypeUriPreview Preview/0.5',
			'curl/8.5.0',
			'Mozilla/5.0 HeadlessChrome/120',
		]) {
			expect(isAutomated(agent)).toBe(true);
		}
	});
});
