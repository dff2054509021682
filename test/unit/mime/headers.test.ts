import {
	decodeEncodedWords,
	findHeaderEnd,
	messageIdList,
	parseDate,
	parseHeaderBlock,
	parseParameterized,
	toHeaderMap,
} from '../../../nodes/shared/mime/headers';
import { Warnings } from '../../../nodes/shared/mime/warnings';

describe('findHeaderEnd', () => {
	it('finds CRLF and LF blank lines', () => {
		expect(findHeaderEnd(Buffer.from('A: 1\r\nB: 2\r\n\r\nbody'))).toEqual({
			headerEnd: 12,
			bodyStart: 14,
			separatorFound: true,
			truncated: false,
		});
		expect(findHeaderEnd(Buffer.from('A: 1\n\nbody'))).toMatchObject({
			headerEnd: 5,
			bodyStart: 6,
		});
		expect(findHeaderEnd(Buffer.from('\r\nbody'))).toMatchObject({ headerEnd: 0, bodyStart: 2 });
	});

	it('reports a message that is all headers', () => {
		expect(findHeaderEnd(Buffer.from('A: 1\r\nB: 2'))).toEqual({
			headerEnd: 10,
			bodyStart: 10,
			separatorFound: false,
			truncated: false,
		});
	});
});

describe('decodeEncodedWords', () => {
	it('decodes B and Q words in several charsets', () => {
		expect(decodeEncodedWords('=?ISO-8859-1?Q?Mail_avec_fichier_attach=E9?=')).toBe(
			'Mail avec fichier attaché',
		);
		expect(decodeEncodedWords('=?utf-8?B?SsO2cmc=?= Müller')).toBe('Jörg Müller');
		expect(decodeEncodedWords('=?windows-1251?Q?=CF=F3=F2=B3=ED?=')).toBe('Путін');
	});

	it('drops whitespace between adjacent words but keeps it around plain text', () => {
		expect(decodeEncodedWords('=?utf-8?q?a?= =?utf-8?q?b?=')).toBe('ab');
		expect(decodeEncodedWords('x =?utf-8?q?a?= y')).toBe('x a y');
	});

	it('leaves words in an unknown charset as they are and reports them', () => {
		const unknown: string[] = [];
		expect(decodeEncodedWords('=?x-klingon?Q?abc?= ok', (c) => unknown.push(c))).toBe(
			'=?x-klingon?Q?abc?= ok',
		);
		expect(unknown).toEqual(['x-klingon']);
	});
});

describe('parseHeaderBlock and toHeaderMap', () => {
	it('unfolds, decodes raw UTF-8 and keeps repeated fields in order', () => {
		const block = Buffer.from(
			'Subject: Grüße\r\n aus Berlin\r\nX-A: 1\r\nX-A: 2\r\n__proto__: polluted\r\n',
			'utf8',
		);
		const map = toHeaderMap(parseHeaderBlock(block));
		expect(map.subject).toBe('Grüße aus Berlin');
		expect(map['x-a']).toEqual(['1', '2']);
		expect(Object.getPrototypeOf(map)).toBe(Object.prototype);
		expect(Object.prototype.hasOwnProperty.call(map, '__proto__')).toBe(true);
	});

	it('reads bytes that are not UTF-8 as Latin-1, with a warning', () => {
		const warnings = new Warnings();
		const fields = parseHeaderBlock(Buffer.from([...Buffer.from('X-Name: Ren'), 0xe9]), warnings);
		expect(fields[0].value).toBe('René');
		expect(warnings.toArray()).toEqual([
			'header x-name: bytes that are not UTF-8 were read as Latin-1',
		]);
	});
});

describe('value readers', () => {
	it('reads Content-Type parameters with quotes and comments', () => {
		expect(
			parseParameterized('Multipart/Report; report-type="delivery-status" (dsn);\tboundary="a;b"'),
		).toEqual({
			value: 'multipart/report',
			params: { 'report-type': 'delivery-status', boundary: 'a;b' },
		});
	});

	it('reads Message-ID lists with and without brackets', () => {
		expect(messageIdList('<a@x> <b@x>\r\n <a@x>')).toEqual(['<a@x>', '<b@x>']);
		expect(messageIdList('a@x b@x')).toEqual(['<a@x>', '<b@x>']);
		expect(messageIdList('')).toEqual([]);
	});

	it('reads dates with comments and rejects nonsense', () => {
		expect(parseDate('Mon, 20 Oct 2014 05:33:31 -0700 (PDT)')).toBe('2014-10-20T12:33:31.000Z');
		expect(parseDate('yesterday-ish')).toBeNull();
	});
});
