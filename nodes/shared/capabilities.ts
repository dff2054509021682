/**
 * The capability report of one inbox: what its IMAP and SMTP servers announce, what the probes
 * found, and for each feature of the package whether it runs fully there, degraded (and how), or
 * not at all. The verdicts follow what the features' own code does with the same facts
 * (imap/actions.ts, imap/watch/afterRun.ts, imap/watch/poll.ts, smtp/sendOnce.ts, imap/thread.ts,
 * imap/searchCheck.ts). Plain data, no secret: meant to be pasted into a bug report.
 */
import type { AgentMailConnection } from './connection';
import type { FolderFinding, ImapFacts } from './imap/capabilities';
import { PROBED_KEYS, type ProbedKey, type SearchSupport } from './imap/searchProbe';
import { RECENT_THREAD_SCANNED } from './imap/thread';
import { DEFAULT_POLL_INTERVAL_MS } from './imap/watch/poll';
import { RECENT_SENT_SCANNED } from './smtp/sendOnce';
import type { SmtpFacts } from './smtpCapabilities';

/** Runs as designed; runs with less (`how` says what); does not run; could not be told. */
export type Verdict = 'full' | 'degraded' | 'unavailable' | 'unknown';

export interface FeatureVerdict {
	verdict: Verdict;
	how: string;
}

/** The features judged, in the order the report lists them, with their names in the editor. */
export const FEATURES = {
	trigger: 'AgentMail Trigger: new mail',
	triggerAfterRunMove: 'AgentMail Trigger: After the Run → Move to Folder',
	move: 'Message → Move',
	delete: 'Message → Delete (to Trash)',
	deletePermanently: 'Message → Delete, Delete Permanently',
	sendOnce: 'Send Once (Send, Reply, Forward)',
	threadGet: 'Thread → Get',
	getManyFilters: 'Message → Get Many filters',
} as const;
export type Feature = keyof typeof FEATURES;

/** How one key did over every folder probed: the worst answer counts. */
export function combined(
	key: ProbedKey,
	probes: ImapFacts['search'],
	folder?: string,
): SearchSupport {
	const answers = probes.filter((p) => !folder || p.folder === folder).map((p) => p.keys[key]);
	for (const bad of ['refused', 'ignored', 'misses'] as const) {
		if (answers.includes(bad)) return bad;
	}
	return answers.includes('answered') ? 'answered' : 'untested';
}

const full = (how: string): FeatureVerdict => ({ verdict: 'full', how });
const degraded = (how: string): FeatureVerdict => ({ verdict: 'degraded', how });
const unavailable = (how: string): FeatureVerdict => ({ verdict: 'unavailable', how });
const unknown = (how: string): FeatureVerdict => ({ verdict: 'unknown', how });

const NO_SAFE_MOVE =
	'the server supports neither MOVE nor UIDPLUS, so moving would also expunge every other message marked deleted in the folder';

/** Message → Move and Delete's move to Trash: MOVE, or COPY + UID EXPUNGE (UIDPLUS). */
function moveVerdict(caps: Set<string>, to: string): FeatureVerdict {
	if (caps.has('MOVE') && caps.has('UIDPLUS')) return full(`moved ${to} with MOVE`);
	if (caps.has('MOVE')) {
		return degraded(
			`moved ${to} with MOVE; the output's uid is null (without UIDPLUS the server does not say the new UID)`,
		);
	}
	if (caps.has('UIDPLUS'))
		return full(`moved ${to} with COPY and UID EXPUNGE of that message only`);
	return unavailable(`refused, nothing changed: ${NO_SAFE_MOVE}`);
}

const foundBy = (folder: FolderFinding) =>
	folder.foundBy === 'special-use' ? 'marked by SPECIAL-USE' : 'found by its name';

/** What earlier sends showed of the SMTP side, which the check (sending nothing) cannot see. */
function sendOnceVerdict(facts: ImapFacts, sentCopies: SmtpFacts['sentCopies']): FeatureVerdict {
	if (!facts.sent.path) {
		return unavailable('the inbox has no Sent folder, so what was sent cannot be checked');
	}
	if (sentCopies === 'no-copy') {
		return unavailable(
			'messages sent from this inbox left no copy in Sent, so a retry cannot tell what was sent: each item with a key says so (sendOnceWarning), and a retry sends again',
		);
	}
	if (sentCopies === 'drops-marks') {
		return degraded(
			'the server removes the marks Send Once looks for (the Message-ID and the AgentMail-Send-Once header) from its copies in Sent: a retry cannot recognise what was sent, and each item says so',
		);
	}
	const verdict = sendOnceImapVerdict(facts, facts.sent.path);
	if (sentCopies !== 'not-seen' || verdict.verdict !== 'full') return verdict;
	return full(
		`${verdict.how}; whether the SMTP side keeps a copy in Sent with the marks Send Once looks for shows once this n8n has sent from the inbox (run the check again after a send)`,
	);
}

function sendOnceImapVerdict(facts: ImapFacts, sent: string): FeatureVerdict {
	const header = combined('HEADER', facts.search, sent);
	if (header === 'answered') return full(`"${sent}" is searched by the server (HEADER)`);
	if (header === 'untested') {
		return unknown(`"${sent}" is empty: run the check again once the inbox has sent mail`);
	}
	if (header === 'misses') {
		return unavailable(
			`the server's HEADER search in "${sent}" does not find a message that is there, so a retry would not see what was sent`,
		);
	}
	const instead = `the headers of its newest ${RECENT_SENT_SCANNED} messages are read and matched here instead; a copy older than those is not seen (the item says so)`;
	return degraded(
		header === 'refused'
			? `HEADER search is refused in "${sent}": ${instead}`
			: `HEADER search is ignored in "${sent}": while the search returns no more than a few messages they are matched here; past that, ${instead}`,
	);
}

function threadVerdict(facts: ImapFacts): FeatureVerdict {
	const header = combined('HEADER', facts.search);
	const folders = facts.sent.path
		? `INBOX and "${facts.sent.path}"`
		: 'INBOX only (no Sent folder)';
	if (header === 'untested') return unknown('INBOX and Sent are empty: nothing to search');
	if (header === 'misses') {
		return degraded(
			`searches ${folders}, but the server's HEADER search misses messages that are there: conversations may come back incomplete`,
		);
	}
	if (header !== 'answered') {
		return degraded(
			`HEADER search is ${header}: the threading headers of the newest ${RECENT_THREAD_SCANNED} messages of ${folders} are read instead; an older message is not found (the output says incomplete)`,
		);
	}
	return facts.sent.path
		? full(`searches ${folders} on the server`)
		: degraded(`searches ${folders}: replies the inbox sent are not found`);
}

function getManyVerdict(facts: ImapFacts): FeatureVerdict {
	const header = combined('HEADER', facts.search, 'INBOX');
	const body = combined('BODY', facts.search, 'INBOX');
	if (header === 'answered' && body === 'answered')
		return full('every filter is searched by the server');
	if (header === 'untested' && body === 'untested')
		return unknown('INBOX is empty: nothing to search');
	const notes: string[] = [];
	const headerFilters = 'Header Name, Message-ID and Has Attachments';
	if (header === 'refused') notes.push(`${headerFilters} fail with an error naming the filter`);
	if (header === 'ignored') {
		notes.push(
			`${headerFilters} are checked here against each message's headers (right, but slower on large folders)`,
		);
	}
	if (header === 'misses') notes.push(`${headerFilters} may miss messages that match`);
	if (body === 'refused') notes.push('Body Contains fails with an error naming it');
	if (body === 'ignored')
		notes.push(
			'Body Contains fails with an error naming it (the server ignores BODY search, so it cannot be applied)',
		);
	if (body === 'misses') notes.push('Body Contains may miss messages that match');
	notes.push('From, To, Subject, dates, read and flagged are searched by the server');
	return degraded(notes.join('; '));
}

/** Each feature's verdict from the facts. */
export function judgeFeatures(
	facts: ImapFacts,
	sentCopies: SmtpFacts['sentCopies'] = 'not-seen',
): Record<Feature, FeatureVerdict> {
	const caps = new Set(facts.capabilities);
	const safeMove = caps.has('MOVE') || caps.has('UIDPLUS');
	return {
		trigger: caps.has('IDLE')
			? full('pushed by the server (IDLE): a run starts about a second after the mail arrives')
			: degraded(
					`no IDLE: the trigger asks for new mail every Poll Interval (default ${DEFAULT_POLL_INTERVAL_MS / 1000} s), so a run starts up to that long after the mail arrives; none is missed or repeated`,
				),
		triggerAfterRunMove: safeMove
			? full('handled messages are moved once their run succeeded')
			: unavailable(
					`handled messages stay where they are and one warning is logged (${NO_SAFE_MOVE}); choose Mark as Read`,
				),
		move: moveVerdict(caps, 'to the folder'),
		delete: facts.trash.path
			? moveVerdict(caps, `to "${facts.trash.path}" (${foundBy(facts.trash)})`)
			: unavailable('the inbox has no Trash folder: use Delete Permanently or Move'),
		deletePermanently: caps.has('UIDPLUS')
			? full('only that message is expunged (UID EXPUNGE)')
			: unavailable(
					'refused, nothing deleted: without UIDPLUS an EXPUNGE would also remove every other message marked deleted',
				),
		sendOnce: sendOnceVerdict(facts, sentCopies),
		threadGet: threadVerdict(facts),
		getManyFilters: getManyVerdict(facts),
	};
}

/** The report as one output item: facts, verdicts, and a summary a person reads first. */
export function capabilityReport(
	connection: Pick<AgentMailConnection, 'email' | 'imapHost' | 'imapPort'>,
	imap: ImapFacts,
	smtp: SmtpFacts,
	checkedAt: Date,
): Record<string, unknown> {
	const features = judgeFeatures(imap, smtp.sentCopies);
	const search = Object.fromEntries(PROBED_KEYS.map((key) => [key, combined(key, imap.search)]));
	return {
		inbox: connection.email,
		checkedAt: checkedAt.toISOString(),
		summary: (Object.keys(FEATURES) as Feature[]).map(
			(feature) => `${FEATURES[feature]}: ${features[feature].verdict}. ${features[feature].how}`,
		),
		features,
		imap: {
			host: connection.imapHost,
			port: connection.imapPort,
			server: imap.server,
			capabilities: imap.capabilities,
			folders: imap.folders,
			sentFolder: imap.sent,
			trashFolder: imap.trash,
			search: {
				...search,
				byFolder: imap.search.map((probe) => ({
					folder: probe.folder,
					messages: probe.messages,
					...probe.keys,
				})),
			},
		},
		smtp,
	};
}
