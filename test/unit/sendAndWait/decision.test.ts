import {
	decide,
	DEFAULT_APPROVE_WORDS,
	DEFAULT_DECLINE_WORDS,
	parseWords,
} from '../../../nodes/shared/sendAndWait/decision';

const yes = DEFAULT_APPROVE_WORDS;
const no = DEFAULT_DECLINE_WORDS;

describe('decide', () => {
	it.each([
		['Yes, go ahead', true],
		['yes', true],
		['APPROVED.', true],
		['Go ahead please', true],
		['ok', true],
		['> Yes', true],
		['*Approve*', true],
		['No', false],
		["Don't do it", false],
		['Don’t do it', false],
		['do not refund', false],
		['Rejected: wrong amount', false],
	])('%j → %s', (text, expected) => {
		expect(decide(text, yes, no)).toBe(expected);
	});

	it.each([
		'Nobody told me about this',
		'Yesterday was fine',
		'Maybe later',
		'I think yes',
		'',
		'Okey-dokey',
		'OK?',
		'Yes ? or rather no',
		'N/A',
		'y',
	])('%j decides nothing', (text) => {
		expect(decide(text, yes, no)).toBeUndefined();
	});

	it('takes the longer phrase when words of both kinds start the text', () => {
		expect(decide('do not', ['do'], ['do not'])).toBe(false);
		expect(decide('go ahead', ['go ahead'], ['go'])).toBe(true);
	});

	it('decides nothing on a tie', () => {
		expect(decide('sure', ['sure'], ['sure'])).toBeUndefined();
	});
});

describe('parseWords', () => {
	it('splits, trims and lower-cases a list', () => {
		expect(parseWords(' Ship It , LGTM,,', [])).toEqual(['ship it', 'lgtm']);
	});

	it('falls back when the list is empty', () => {
		expect(parseWords(' , ', ['x'])).toEqual(['x']);
		expect(parseWords(undefined, ['x'])).toEqual(['x']);
	});

	it('custom words replace the defaults', () => {
		expect(decide('yes', parseWords('ship it', yes), parseWords('hold', no))).toBeUndefined();
		expect(decide('Ship it!', parseWords('ship it', yes), parseWords('hold', no))).toBe(true);
	});
});
