/**
 * The inbox client: Message → Get Many on a folder of 2,000 and of 20,000 messages (an inbox
 * of its own for each size, filled straight into its maildir), limit 50, headers only and in
 * full, and a search that matches 5 of them. Per run, the node's own time as n8n measured it
 * (runData executionTime) and n8n's peak RSS above where it stood before the run. The floor
 * is a bare imapflow client in the bench's process doing the same: login, EXAMINE, the same
 * SEARCH, FETCH of the 50 newest (headers, or whole sources, not parsed), logout; for Full,
 * also the same with each source parsed by mailparser's simpleParser (what any client that
 * gives the body must add).
 *
 * n8n-nodes-imap, the community IMAP node, is not compared: `npm view n8n-nodes-imap` answers
 * 404 from the registry this bench installs from, so it cannot be installed here.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';

import { ImapFlow, type SearchObject } from 'imapflow';
import { simpleParser } from 'mailparser';

import { extraInboxAddresses, type ExtraInboxes } from '../../tools/sandbox/inboxes';
import { sandboxCredential } from '../../tools/sandbox/info';
import { INBOX, type Lab } from '../lab/lab';
import { benchMessage } from '../lab/mail';
import { median, rssBytes, sampleRss } from '../lab/proc';
import { inParallel, listExecutions, waitForQuiet } from '../lab/runs';
import { GET_MANY, getManyWorkflow, nodeExecutionTime, nodeItems } from '../lab/workflows';
import { round, type BenchContext } from './common';
import { settledRss } from './memory';

/** The phase's inboxes, one per folder size, opened with agent@'s key. */
const INBOX_SET: Omit<ExtraInboxes, 'count'> = { prefix: 'bench-inbox-', keyOf: INBOX.agent };
/** Messages written into a maildir at once while filling it. */
const FILL_PARALLEL = 16;
/** The subject word only the messages the search must find have. */
const NEEDLE = 'needle';
/** One webhook call. */
const WEBHOOK_TIMEOUT_MS = 30_000;
/** After a run ended: nothing else starts (and n8n has written the execution). */
const QUIET_MS = 1_000;
/** One run, even on a busy machine. */
const RUN_TIMEOUT_MS = 120_000;
const MB = 1024 * 1024;

export interface InboxSizes {
	/** Messages in each folder measured. */
	folderSizes: number[];
	/** Measured runs per operation and size (after one warm-up run each). */
	rounds: number;
	/** Get Many's Limit. */
	limit: number;
	/** Messages the search matches. */
	matches: number;
}

/** The operations measured: Get Many headers only, in full, and the search (in full). */
export type InboxOperation = 'headers' | 'full' | 'search';

const OPERATIONS: Record<InboxOperation, { format: 'headers' | 'full'; search: boolean }> = {
	headers: { format: 'headers', search: false },
	full: { format: 'full', search: false },
	search: { format: 'full', search: true },
};

export interface InboxStep {
	folderSize: number;
	operation: InboxOperation;
	/** Items the node returned (the floor fetched as many). */
	items: number;
	/** The node's executionTime per round, ms. */
	oursMs: number[];
	/** The bare client's time per round, ms. */
	floorMs: number[];
	/** Full only: the bare client parsing each source with simpleParser, per round, ms. */
	floorParsedMs?: number[];
	floorParsedMedianMs?: number;
	oursMedianMs: number;
	floorMedianMs: number;
	/** oursMedianMs / floorMedianMs. */
	ratio: number;
	/** n8n's peak RSS above its RSS before the run, per round, MB (first round from settled). */
	n8nGrowthMb: number[];
	/** The bench process's peak RSS above its RSS before, per floor round, MB. */
	floorGrowthMb: number[];
}

export interface InboxResult {
	sizes: InboxSizes;
	/** Seconds to write each folder's messages into its maildir, and for Dovecot to index them. */
	fillS: number[];
	indexS: number[];
	steps: InboxStep[];
	/** Why n8n-nodes-imap is not in the comparison. */
	imapNodesPackage: string;
}

/** The extra sandbox inboxes the phase needs. */
export function inboxBenchInboxes(sizes: InboxSizes): ExtraInboxes[] {
	return [{ ...INBOX_SET, count: sizes.folderSizes.length }];
}

/** The subject of message `i` of `count`: `matches` of them, spread out, carry the needle. */
function subjectOf(i: number, count: number, matches: number): string {
	const every = Math.floor(count / matches);
	return i % every === Math.floor(every / 2) && i < every * matches
		? `inbox ${NEEDLE} ${i}`
		: `inbox filler ${i}`;
}

/** Writes `count` messages into the inbox's maildir; returns the seconds it took. */
async function fill(lab: Lab, address: string, count: number, matches: number): Promise<number> {
	const started = Date.now();
	const indexes = Array.from({ length: count }, (_, i) => i);
	await inParallel(indexes, FILL_PARALLEL, async (i) => {
		await lab.sandbox.depositInMaildir(address, benchMessage(subjectOf(i, count, matches)).raw);
	});
	return (Date.now() - started) / 1000;
}

function query(operation: InboxOperation): SearchObject {
	return OPERATIONS[operation].search ? { subject: NEEDLE } : { all: true };
}

/** A logged-in bare client of the inbox (TLS verified with the sandbox CA, no logging). */
async function bareClient(lab: Lab, address: string): Promise<ImapFlow> {
	const client = new ImapFlow({
		host: lab.info.imap.host,
		port: lab.info.imap.port,
		secure: true,
		auth: { user: address, pass: String(sandboxCredential(lab.info, INBOX.agent).apiKey) },
		tls: { ca: readFileSync(lab.info.ca) },
		logger: false,
		disableAutoIdle: true,
	});
	client.on('error', () => undefined);
	await client.connect();
	return client;
}

/** The floor: what the node does on the wire, without parsing. Time in ms, items fetched. */
async function floorRun(
	lab: Lab,
	address: string,
	operation: InboxOperation,
	limit: number,
	parse = false,
): Promise<{ ms: number; items: number }> {
	const started = performance.now();
	const client = await bareClient(lab, address);
	let items = 0;
	try {
		await client.mailboxOpen('INBOX', { readOnly: true });
		const found = await client.search(query(operation), { uid: true });
		const newest = (found || []).sort((a, b) => b - a).slice(0, limit);
		const parts =
			OPERATIONS[operation].format === 'headers'
				? { headers: true }
				: { source: true, envelope: true };
		if (newest.length) {
			const fetched = await client.fetchAll(
				newest.join(','),
				{ uid: true, flags: true, size: true, ...parts },
				{ uid: true },
			);
			items = fetched.length;
			// One after another, as the node parses them.
			if (parse)
				for (const message of fetched) await simpleParser(message.source ?? Buffer.alloc(0));
		}
	} finally {
		// The node logs out too: inside the time.
		await client.logout().catch(() => client.close());
	}
	return { ms: performance.now() - started, items };
}

/**
 * Dovecot indexes a maildir the first time it is opened, and caches headers as they are asked
 * for: done once here, so that neither side pays for it. Returns the messages the folder holds.
 */
async function warmUp(lab: Lab, address: string): Promise<number> {
	const client = await bareClient(lab, address);
	try {
		const mailbox = await client.mailboxOpen('INBOX', { readOnly: true });
		await client.search({ subject: NEEDLE }, { uid: true });
		await client.fetchAll('1:*', { uid: true, size: true, headers: true });
		return mailbox.exists;
	} finally {
		await client.logout();
	}
}

/** One run of the node through its webhook: its executionTime, items, n8n's peak growth. */
async function nodeRun(
	lab: Lab,
	workflow: { id: string; path: string },
	address: string,
	runsSoFar: number,
	before: number,
): Promise<{ ms: number; items: number; growthMb: number }> {
	const sampler = sampleRss(lab.n8n.pid);
	await lab.client.postWebhook(
		workflow.path,
		{ inbox: address },
		{ timeoutMs: WEBHOOK_TIMEOUT_MS },
	);
	await waitForQuiet(lab, workflow.id, {
		atLeast: runsSoFar + 1,
		quietMs: QUIET_MS,
		timeoutMs: RUN_TIMEOUT_MS,
	});
	const { peak } = sampler.stop();
	const [latest] = await listExecutions(lab, workflow.id, true);
	const ms = nodeExecutionTime(latest, GET_MANY);
	if (latest.status !== 'success' || ms === undefined) {
		throw new Error(`inbox: execution ${latest.id} of ${workflow.path} ended ${latest.status}`);
	}
	return { ms, items: nodeItems(latest, GET_MANY).length, growthMb: (peak - before) / MB };
}

export async function inbox(context: BenchContext, sizes: InboxSizes): Promise<InboxResult> {
	const { lab, log } = context;
	const addresses = extraInboxAddresses({ ...INBOX_SET, count: sizes.folderSizes.length });
	const fillS: number[] = [];
	const indexS: number[] = [];
	for (const [k, size] of sizes.folderSizes.entries()) {
		fillS.push(round(await fill(lab, addresses[k], size, sizes.matches), 1));
		const started = Date.now();
		const exists = await warmUp(lab, addresses[k]);
		indexS.push(round((Date.now() - started) / 1000, 1));
		if (exists !== size) throw new Error(`inbox: ${addresses[k]} holds ${exists}, not ${size}`);
		log(
			`inbox: ${size} messages in ${addresses[k]}: written in ${fillS[k]} s, indexed in ${indexS[k]} s`,
		);
	}
	const workflows = {} as Record<InboxOperation, { id: string; path: string }>;
	for (const operation of Object.keys(OPERATIONS) as InboxOperation[]) {
		const path = `bench-inbox-${operation}-${randomUUID().slice(0, 8)}`;
		const { format, search } = OPERATIONS[operation];
		const id = await lab.client.createWorkflow(
			getManyWorkflow(`Inbox: Get Many ${operation}`, lab.ours[INBOX.agent], path, {
				format,
				returnAll: false,
				limit: sizes.limit,
				filters: search ? { subject: NEEDLE } : {},
			}),
		);
		await lab.client.activateWorkflow(id);
		workflows[operation] = { id, path };
	}
	const runs: Record<InboxOperation, number> = { headers: 0, full: 0, search: 0 };
	const steps: InboxStep[] = [];
	for (const [k, folderSize] of sizes.folderSizes.entries()) {
		for (const operation of Object.keys(OPERATIONS) as InboxOperation[]) {
			const address = addresses[k];
			const step: InboxStep = {
				folderSize,
				operation,
				items: 0,
				oursMs: [],
				floorMs: [],
				oursMedianMs: 0,
				floorMedianMs: 0,
				ratio: 0,
				n8nGrowthMb: [],
				floorGrowthMb: [],
			};
			// One warm-up run of each, not counted: the node's first load, imapflow's first TLS.
			await nodeRun(lab, workflows[operation], address, runs[operation]++, rssBytes(lab.n8n.pid));
			await floorRun(lab, address, operation, sizes.limit);
			let before = await settledRss(lab.n8n.pid);
			for (let r = 0; r < sizes.rounds; r++) {
				const ours = await nodeRun(lab, workflows[operation], address, runs[operation]++, before);
				step.oursMs.push(round(ours.ms));
				step.n8nGrowthMb.push(round(ours.growthMb, 1));
				step.items = ours.items;
				const own = sampleRss(process.pid);
				const ownBefore = rssBytes(process.pid);
				const floor = await floorRun(lab, address, operation, sizes.limit);
				step.floorGrowthMb.push(round((own.stop().peak - ownBefore) / MB, 1));
				step.floorMs.push(round(floor.ms));
				if (OPERATIONS[operation].format === 'full') {
					const parsed = await floorRun(lab, address, operation, sizes.limit, true);
					(step.floorParsedMs ??= []).push(round(parsed.ms));
				}
				if (floor.items !== ours.items) {
					throw new Error(
						`inbox ${operation} at ${folderSize}: the node returned ${ours.items} items, the floor fetched ${floor.items}`,
					);
				}
				await sleep(QUIET_MS);
				before = rssBytes(lab.n8n.pid);
			}
			step.oursMedianMs = round(median(step.oursMs));
			step.floorMedianMs = round(median(step.floorMs));
			step.ratio = round(step.oursMedianMs / step.floorMedianMs, 2);
			if (step.floorParsedMs) step.floorParsedMedianMs = round(median(step.floorParsedMs));
			log(
				`inbox ${operation} at ${folderSize}: ${step.items} items, node ${step.oursMedianMs} ms, floor ${step.floorMedianMs} ms (${step.ratio}×)${step.floorParsedMedianMs === undefined ? '' : `, floor parsing ${step.floorParsedMedianMs} ms`}, n8n peak growth ${step.n8nGrowthMb.join('/')} MB`,
			);
			steps.push(step);
		}
	}
	for (const { id } of Object.values(workflows)) await lab.client.deactivateWorkflow(id);
	return {
		sizes,
		fillS,
		indexS,
		steps,
		imapNodesPackage:
			'not compared: `npm view n8n-nodes-imap` answers 404 (not found) from the npm registry this machine installs from',
	};
}
