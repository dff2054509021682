import { capabilityReport, combined, judgeFeatures } from '../../nodes/shared/capabilities';
import type { ImapFacts } from '../../nodes/shared/imap/capabilities';
import type { SearchSupport } from '../../nodes/shared/imap/searchProbe';

const keys = (all: SearchSupport, header = all) => ({ HEADER: header, BODY: all, TEXT: all });

/** An AgentMail-like server: everything but what each test takes away. */
function facts(change: Partial<ImapFacts> = {}): ImapFacts {
	return {
		capabilities: ['IDLE', 'IMAP4rev1', 'MOVE', 'UIDPLUS'],
		server: null,
		folders: ['INBOX', 'Sent', 'Trash'],
		sent: { path: 'Sent', foundBy: 'special-use' },
		trash: { path: 'Trash', foundBy: 'name' },
		search: [
			{ folder: 'INBOX', messages: 3, keys: keys('answered') },
			{ folder: 'Sent', messages: 2, keys: keys('answered') },
		],
		...change,
	};
}

describe('judgeFeatures', () => {
	it('Send Once takes in what earlier sends showed of Sent, which the check cannot see itself', () => {
		const searched = facts();
		expect(judgeFeatures(searched).sendOnce).toEqual({
			verdict: 'full',
			how: expect.stringMatching(
				/searched by the server \(HEADER\); whether the SMTP side keeps a copy .* shows once this n8n has sent/,
			),
		});
		expect(judgeFeatures(searched, 'keeps-message-id').sendOnce).toEqual({
			verdict: 'full',
			how: expect.not.stringMatching(/SMTP side/),
		});
		expect(judgeFeatures(searched, 'rewrites').sendOnce.verdict).toBe('full');
		expect(judgeFeatures(searched, 'no-copy').sendOnce).toEqual({
			verdict: 'unavailable',
			how: expect.stringMatching(/left no copy in Sent/),
		});
		expect(judgeFeatures(searched, 'drops-marks').sendOnce).toEqual({
			verdict: 'degraded',
			how: expect.stringMatching(/removes the marks Send Once looks for/),
		});
	});

	it('MOVE without UIDPLUS moves, but cannot say the new UID; UIDPLUS alone moves fully', () => {
		const moveOnly = judgeFeatures(facts({ capabilities: ['IDLE', 'MOVE'] }));
		expect(moveOnly.move).toMatchObject({
			verdict: 'degraded',
			how: expect.stringMatching(/uid is null/),
		});
		expect(moveOnly.deletePermanently.verdict).toBe('unavailable');
		expect(moveOnly.triggerAfterRunMove.verdict).toBe('full');
		const uidplusOnly = judgeFeatures(facts({ capabilities: ['IDLE', 'UIDPLUS'] }));
		expect(uidplusOnly.move).toMatchObject({ verdict: 'full', how: expect.stringMatching(/COPY/) });
	});

	it('without a Trash folder Delete cannot run; without Sent, Send Once cannot, Thread → Get reads INBOX only', () => {
		const verdicts = judgeFeatures(
			facts({
				sent: { path: null, foundBy: null },
				trash: { path: null, foundBy: null },
				search: [{ folder: 'INBOX', messages: 3, keys: keys('answered') }],
			}),
		);
		expect(verdicts.delete.verdict).toBe('unavailable');
		expect(verdicts.sendOnce.verdict).toBe('unavailable');
		expect(verdicts.threadGet).toMatchObject({
			verdict: 'degraded',
			how: expect.stringMatching(/INBOX only/),
		});
	});

	it('a HEADER search that misses a message there makes Send Once unavailable (a retry would send again)', () => {
		const verdicts = judgeFeatures(
			facts({ search: [{ folder: 'Sent', messages: 2, keys: keys('answered', 'misses') }] }),
		);
		expect(verdicts.sendOnce.verdict).toBe('unavailable');
		expect(verdicts.threadGet.verdict).toBe('degraded');
	});

	it('empty folders give no verdict on search, and say so', () => {
		const verdicts = judgeFeatures(
			facts({
				search: [
					{ folder: 'INBOX', messages: 0, keys: keys('untested') },
					{ folder: 'Sent', messages: 0, keys: keys('untested') },
				],
			}),
		);
		expect(verdicts.sendOnce.verdict).toBe('unknown');
		expect(verdicts.threadGet.verdict).toBe('unknown');
		expect(verdicts.getManyFilters.verdict).toBe('unknown');
	});
});

describe('combined', () => {
	it('takes the worst answer over the folders; untested only when no folder could tell', () => {
		const probes = [
			{ folder: 'INBOX', messages: 0, keys: keys('untested') },
			{ folder: 'Sent', messages: 4, keys: keys('answered', 'ignored') },
		];
		expect(combined('HEADER', probes)).toBe('ignored');
		expect(combined('BODY', probes)).toBe('answered');
		expect(combined('BODY', probes, 'INBOX')).toBe('untested');
	});
});

it('the report lists every feature once in its summary, its parts in a fixed order', () => {
	const report = capabilityReport(
		{ email: 'a@x.test', imapHost: 'imap.x.test', imapPort: 993 },
		facts(),
		{
			host: 'smtp.x.test',
			port: 465,
			security: 'ssl',
			login: 'ok',
			extensions: ['AUTH', 'SIZE'],
			maxMessageBytes: 10_485_760,
			authMechanisms: ['PLAIN'],
			sentCopies: 'not-seen',
		},
		new Date('2026-12-07T12:00:00Z'),
	);
	expect(report.summary).toHaveLength(8);
	expect(report).toMatchObject({ inbox: 'a@x.test', checkedAt: '2026-12-07T12:00:00.000Z' });
	expect(Object.keys(report)).toEqual([
		'inbox',
		'checkedAt',
		'summary',
		'features',
		'imap',
		'smtp',
	]);
});
