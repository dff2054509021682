/**
 * Tells automatic mail (auto-replies, bounces, list and bulk mail, the inbox's own mail) from
 * mail a person wrote, so that the trigger can skip it and an auto-reply workflow cannot loop
 * with itself or with another robot.
 */
import { parseAddressHeader } from 'mailparser';

/** Whether a message is automatic, and why, in words a user can read. */
export type AutomaticVerdict = { automatic: boolean; reason: string | null };

/**
 * Header fields to classify. Either the `headers` object of a trigger item (lowercase names,
 * a string per field or an array for repeated fields), or the `headers` Map of a mailparser
 * result (lowercase names, structured values).
 */
export type HeaderInput =
	Readonly<Record<string, string | string[] | undefined>> | ReadonlyMap<string, unknown>;

const NOT_AUTOMATIC: AutomaticVerdict = { automatic: false, reason: null };
const BULK_PRECEDENCE = new Set(['bulk', 'junk', 'list']);
const BOUNCE_SENDERS = new Set(['mailer-daemon', 'postmaster']);

/**
 * Classifies a message by its headers. Automatic when:
 * - it is From the inbox itself (`inbox`, compared case-insensitively),
 * - `Auto-Submitted` is present and not `no` (RFC 3834),
 * - `X-Autoreply` or `X-Autorespond` is present,
 * - `Precedence` is `bulk`, `junk` or `list`,
 * - it is a bounce: From `MAILER-DAEMON@` or `postmaster@`, an empty `Return-Path: <>`, or a
 *   `multipart/report` (RFC 6522: delivery status, read receipts and other machine reports).
 * The first rule that matches gives the reason.
 */
export function classifyAutomatic(headers: HeaderInput, inbox?: string): AutomaticVerdict {
	const get = (name: string): unknown[] => headerValues(headers, name);
	const fromAddresses = get('from').flatMap(addressesOf);

	const self = inbox?.trim().toLowerCase();
	if (self && fromAddresses.some((address) => address.toLowerCase() === self)) {
		return verdict(`From is the inbox itself (${self})`);
	}

	for (const value of get('auto-submitted').map(text)) {
		// The keyword is the part before any parameters or comments: "auto-replied; ...".
		const keyword = value.split(/[;(]/)[0].trim().toLowerCase();
		if (keyword !== 'no') return verdict(`Auto-Submitted: ${keyword || '(empty)'}`);
	}

	for (const name of ['x-autoreply', 'x-autorespond']) {
		const values = get(name).map(text);
		if (values.length > 0) return verdict(`${displayName(name)}: ${values[0] || '(empty)'}`);
	}

	for (const value of get('precedence').map(text)) {
		const keyword = value.trim().toLowerCase();
		if (BULK_PRECEDENCE.has(keyword)) return verdict(`Precedence: ${keyword}`);
	}

	const bounceSender = fromAddresses.find((address) =>
		BOUNCE_SENDERS.has(address.split('@')[0].toLowerCase()),
	);
	if (bounceSender) return verdict(`bounce: From ${bounceSender}`);

	for (const value of get('content-type')) {
		const { type, reportType } = contentTypeOf(value);
		if (type === 'multipart/report') {
			return verdict(
				`bounce or report: Content-Type multipart/report${reportType ? `; report-type=${reportType}` : ''}`,
			);
		}
	}

	for (const value of get('return-path')) {
		if (isEmptyReturnPath(value)) return verdict('bounce: empty Return-Path <>');
	}

	return NOT_AUTOMATIC;
}

function verdict(reason: string): AutomaticVerdict {
	return { automatic: true, reason };
}

function displayName(name: string): string {
	return name.replace(/(^|-)([a-z])/g, (_m, dash: string, ch: string) => dash + ch.toUpperCase());
}

function isMap(headers: HeaderInput): headers is ReadonlyMap<string, unknown> {
	return typeof (headers as ReadonlyMap<string, unknown>).get === 'function';
}

/** Every value of a header, as an array (repeated fields, single fields alike). */
function headerValues(headers: HeaderInput, name: string): unknown[] {
	let value: unknown;
	if (isMap(headers)) {
		value = headers.get(name);
	} else if (Object.prototype.hasOwnProperty.call(headers, name)) {
		value = (headers as Record<string, unknown>)[name];
	}
	if (value === undefined || value === null) return [];
	return Array.isArray(value) ? (value as unknown[]) : [value];
}

/** A header value as text: strings as they are, mailparser's structured values flattened. */
function text(value: unknown): string {
	if (typeof value === 'string') return value;
	if (value instanceof Date) return value.toISOString();
	if (value && typeof value === 'object') {
		const record = value as { text?: unknown; value?: unknown };
		if (typeof record.text === 'string') return record.text;
		if (typeof record.value === 'string') return record.value;
	}
	return '';
}

/** The addresses in a From value: a header string, or mailparser's address object. */
function addressesOf(value: unknown): string[] {
	if (value && typeof value === 'object' && Array.isArray((value as { value?: unknown }).value)) {
		const entries = (value as { value: Array<{ address?: string; group?: unknown[] }> }).value;
		return entries.flatMap((entry) =>
			entry.group
				? entry.group.flatMap((member) => addressesOf({ value: [member] }))
				: entry.address
					? [entry.address]
					: [],
		);
	}
	const raw = text(value);
	if (!raw) return [];
	try {
		return parseAddressHeader(raw, { flatten: true })
			.value.map((entry) => entry.address ?? '')
			.filter((address) => address !== '');
	} catch {
		// Unreadable From: no address to compare, the other rules still apply.
		return [];
	}
}

function contentTypeOf(value: unknown): { type: string; reportType: string | null } {
	if (value && typeof value === 'object' && 'params' in value) {
		const structured = value as { value?: unknown; params?: Record<string, unknown> };
		const reportType = structured.params?.['report-type'];
		return {
			type: String(structured.value ?? '')
				.trim()
				.toLowerCase(),
			reportType: typeof reportType === 'string' ? reportType.toLowerCase() : null,
		};
	}
	const raw = text(value);
	const reportType = /(?:^|;)\s*report-type\s*=\s*"?([^";\s]+)/i.exec(raw)?.[1];
	return {
		type: raw.split(';')[0].trim().toLowerCase(),
		reportType: reportType ? reportType.toLowerCase() : null,
	};
}

function isEmptyReturnPath(value: unknown): boolean {
	if (value && typeof value === 'object' && Array.isArray((value as { value?: unknown }).value)) {
		// mailparser reads "<>" as one entry without an address.
		const entries = (value as { value: Array<{ address?: string; name?: string }> }).value;
		return entries.length > 0 && entries.every((entry) => !entry.address && !entry.name);
	}
	return /^<\s*>$/.test(text(value).trim());
}
