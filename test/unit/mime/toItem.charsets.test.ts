/**
 * Subjects of real mail in several languages and charsets, through the item builder the
 * trigger and Get Many use: parseMessage (whole message) and headersOnlyItem (headers only,
 * mail over the size cap). The encoded words were made with Python's codecs, not with the
 * libraries that decode them here.
 */
import type { ParsedMessage } from '../../../nodes/shared/mime/item';
import { headersOnlyItem, parseMessage } from '../../../nodes/shared/mime/toItem';
import { metaFor } from './helpers';

const NOT_UTF8 = 'header subject: bytes that are not UTF-8 were read as Latin-1';

/** A small message with the given Subject line (bytes after "Subject:", folds included). */
function message(subject: Buffer | string): Buffer {
	return Buffer.concat([
		Buffer.from('From: Sender <sender@example.com>\r\nTo: agent@agentmail.test\r\nSubject: '),
		typeof subject === 'string' ? Buffer.from(subject, 'latin1') : subject,
		Buffer.from('\r\nMessage-ID: <m@example.com>\r\n\r\nHello\r\n'),
	]);
}

/** The item of `raw` both ways: parsed in full, and from its headers alone. */
async function bothItems(raw: Buffer): Promise<ParsedMessage[]> {
	return [await parseMessage(raw, metaFor(raw)), headersOnlyItem(raw, metaFor(raw), null)];
}

describe('subjects in encoded words', () => {
	it.each([
		[
			'Japanese, ISO-2022-JP split into words as Japanese mailers do',
			'=?ISO-2022-JP?B?GyRCJUYlOSVIGyhC?= =?ISO-2022-JP?B?GyRCJUYlOSVIGyhC?=',
			'テストテスト',
		],
		[
			'Japanese, ISO-2022-JP words on folded lines',
			'=?iso-2022-jp?B?GyRCMnE1RCROJCpDTiRpJDsbKEI=?=\r\n =?iso-2022-jp?B?GyRCIUpNaD01N25NS0Z8IUsbKEI=?=',
			'会議のお知らせ（来週月曜日）',
		],
		[
			'Japanese, an ISO-2022-JP word that does not return to ASCII before the next',
			'=?ISO-2022-JP?B?GyRCJUYlOSVI?= =?ISO-2022-JP?B?YWJj?=',
			'テストabc',
		],
		[
			'Japanese, Shift_JIS with a character split across two words',
			'=?Shift_JIS?B?gqiMqZA=?= =?Shift_JIS?B?z4LogsyCsojLl4o=?=',
			'お見積りのご依頼',
		],
		['Japanese, EUC-JP', '=?EUC-JP?B?wMG14b3x?=', '請求書'],
		[
			'Russian, UTF-8 B words with a character cut in half',
			'=?UTF-8?B?0J/RgNA=?=\r\n =?UTF-8?B?uNCy0LXRgiwg0LzQuNGA?=',
			'Привет, мир',
		],
		[
			'Japanese, UTF-8 Q words with a character cut in half, an emoji cut in half',
			'=?UTF-8?Q?=E6=97=A5=E6=9C=AC=E8=AA?= =?UTF-8?Q?=9E=E3=81=AE=E3=83=A1=E3=83=BC=E3=83=AB_=F0=9F?= =?utf-8?Q?=8E=89?=',
			'日本語のメール 🎉',
		],
		['Chinese, GB2312', '=?gb2312?B?xOO6w6OsysC95w==?=', '你好，世界'],
		[
			'Chinese, GBK with a character split across two words',
			'=?GBK?B?udjT2s/C1g==?= =?GBK?B?3Lvh0um1xM2o1qo=?=',
			'关于下周会议的通知',
		],
		['Chinese, Big5', 'Re: =?big5?B?t3zEs7Nxqr4=?=', 'Re: 會議通知'],
		['Russian, KOI8-R', '=?koi8-r?B?8NLJ18XUIMnaIO3P08vX2Q==?=', 'Привет из Москвы'],
		[
			'Russian, windows-1251 Q with underscores',
			'=?windows-1251?Q?=D1=F7=B8=F2_=ED=E0_=EE=EF=EB=E0=F2=F3?=',
			'Счёт на оплату',
		],
		['Korean, EUC-KR', '=?EUC-KR?B?vsiz58fPvLy/5A==?=', '안녕하세요'],
		['Korean, EUC-KR as Outlook names it', '=?ks_c_5601-1987?B?yLjAxyC+yLO7?=', '회의 안내'],
		[
			'French, ISO-8859-1 Q with underscores',
			'=?ISO-8859-1?Q?R=E9union_d=27=E9quipe_=E0_9h?=',
			"Réunion d'équipe à 9h",
		],
		[
			'German, words in two charsets next to plain text',
			'Fwd: =?utf-8?Q?Gr=C3=BC=C3=9Fe?= =?iso-8859-1?Q?_aus_K=F6ln?= (2)',
			'Fwd: Grüße aus Köln (2)',
		],
	])('%s', async (_name, subject, expected) => {
		for (const { json } of await bothItems(message(subject))) {
			expect(json.subject).toBe(expected);
			expect(json.headers.subject).toBe(expected);
			expect(json.warnings).toEqual([]);
		}
	});

	it('leaves a word in a charset nothing decodes as it is, with a warning', async () => {
		for (const { json } of await bothItems(message('=?x-unknown?B?YWJj?= ok'))) {
			expect(json.subject).toBe('=?x-unknown?B?YWJj?= ok');
			expect(json.warnings).toEqual([
				'header subject: encoded text in unknown charset "x-unknown" was left undecoded',
			]);
		}
	});
});

describe('subjects in raw 8-bit bytes', () => {
	it.each([
		['UTF-8', Buffer.from('Grüße aus Köln – 東京 🎉', 'utf8'), 'Grüße aus Köln – 東京 🎉', []],
		[
			'UTF-8 with one stray byte',
			Buffer.from([0xc3, 0xa9, 0x74, 0xc3, 0xa9, 0xff]),
			// The stray byte is read as Latin-1 (ÿ), the UTF-8 around it as UTF-8.
			'étéÿ',
			[NOT_UTF8],
		],
		[
			'UTF-8 with a Latin-1 word in it',
			Buffer.concat([
				Buffer.from('Re: Grüße – ', 'utf8'),
				Buffer.from('Zürich', 'latin1'),
				Buffer.from(' ✓', 'utf8'),
			]),
			'Re: Grüße – Zürich ✓',
			[NOT_UTF8],
		],
		[
			'Latin-1',
			Buffer.from("Réunion d'équipe à Zürich", 'latin1'),
			"Réunion d'équipe à Zürich",
			[NOT_UTF8],
		],
		[
			'UTF-8 before an encoded word',
			Buffer.concat([Buffer.from('Ответ: ', 'utf8'), Buffer.from('=?koi8-r?B?8NLJ18XU?=')]),
			'Ответ: Привет',
			[],
		],
	])('%s', async (_name, subject, expected, warnings) => {
		for (const { json } of await bothItems(message(subject))) {
			expect(json.subject).toBe(expected);
			expect(json.headers.subject).toBe(expected);
			expect(json.warnings).toEqual(warnings);
		}
	});
});
