/**
 * A line-aware IMAP proxy in front of Dovecot's IMAPS port, for sandbox profiles whose IMAP
 * server supports less than Dovecot. It terminates TLS with the sandbox's own certificate (so
 * clients verify it with the sandbox CA as before) and speaks TLS to Dovecot. Everything passes
 * through byte for byte except:
 * - SEARCH and UID SEARCH commands that use one of the keys the profile lacks: refused with BAD,
 *   or run as SEARCH ALL (a server that ignores keys it does not know);
 * - CAPABILITY lists, from which the capabilities the profile lacks are dropped;
 * - response codes of extensions the profile lacks (`[APPENDUID ...]`, `[HIGHESTMODSEQ ...]`),
 *   taken out of the status responses that carry them.
 */
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';

/** What a search with a key the server lacks gets: BAD, or every message of the folder. */
export type SearchPolicy = 'refuse' | 'ignore';

/** How the proxy changes the conversation. */
export interface ImapProxyRules {
	/** Search keys (upper case) the server lacks, and what a search using one gets. */
	search?: { keys: readonly string[]; policy: SearchPolicy };
	/** Whether the server announces a capability; default all. */
	keepCapability?: (capability: string) => boolean;
	/** Response codes (upper case) removed from status responses, e.g. APPENDUID. */
	dropResponseCodes?: readonly string[];
}

export interface ImapProxyOptions {
	host: string;
	/** Where the proxy listens; 0 picks a free port. */
	port: number;
	upstream: { host: string; port: number; ca: Buffer };
	cert: Buffer;
	key: Buffer;
	rules: ImapProxyRules;
}

export interface ImapProxy {
	readonly port: number;
	/** Searches refused or widened so far. */
	readonly searchesChanged: number;
	close(): Promise<void>;
}

/** A literal announced at the end of a line: `{12}` (synchronizing) or `{12+}` (LITERAL+). */
const LITERAL_MARK = /\{(\d+)(\+?)\}\r\n$/;
/** The first line of a SEARCH or UID SEARCH command: tag, optional UID, the command. */
const SEARCH_COMMAND = /^(\S+) (UID )?SEARCH(?=[ \r])/i;
/**
 * Arguments each search key takes (RFC 3501, 4551, 5032, 9051); keys not listed take none.
 * Skipping them keeps a string such as SUBJECT "body" from reading as the key BODY.
 */
const KEY_ARGUMENTS: Record<string, number> = {
	BCC: 1, BODY: 1, CC: 1, FROM: 1, KEYWORD: 1, SUBJECT: 1, TEXT: 1, TO: 1, UNKEYWORD: 1,
	HEADER: 2, BEFORE: 1, ON: 1, SINCE: 1, SENTBEFORE: 1, SENTON: 1, SENTSINCE: 1, LARGER: 1,
	SMALLER: 1, UID: 1, OLDER: 1, YOUNGER: 1, CHARSET: 1, EMAILID: 1, THREADID: 1,
}; // prettier-ignore
/** A line-aware proxy cannot read a compressed stream, so COMPRESS is never offered. */
const NEVER_OFFERED = /^COMPRESS=/i;

type Piece = { line: Buffer; literal?: { size: number; sync: boolean } } | { data: Buffer };

/** Splits a byte stream into lines (CRLF kept) and the literals they announce. */
export class Framer {
	private partial: Buffer[] = [];
	private literalLeft = 0;
	/** True between a line that announces a literal and the line that ends the unit. */
	private inUnit = false;

	constructor(private readonly onPiece: (piece: Piece) => void) {}

	/** Whether the stream is between two whole commands or responses. */
	get atBoundary(): boolean {
		return this.partial.length === 0 && this.literalLeft === 0 && !this.inUnit;
	}

	push(chunk: Buffer): void {
		let at = 0;
		while (at < chunk.length) {
			if (this.literalLeft > 0) {
				const data = chunk.subarray(at, at + this.literalLeft);
				this.literalLeft -= data.length;
				at += data.length;
				this.onPiece({ data });
				continue;
			}
			const end = chunk.indexOf(0x0a, at);
			if (end < 0) {
				this.partial.push(chunk.subarray(at));
				return;
			}
			const line = Buffer.concat([...this.partial, chunk.subarray(at, end + 1)]);
			this.partial = [];
			at = end + 1;
			const mark = LITERAL_MARK.exec(line.toString('latin1'));
			const literal = mark ? { size: Number(mark[1]), sync: mark[2] === '' } : undefined;
			this.literalLeft = literal?.size ?? 0;
			this.inUnit = literal !== undefined;
			this.onPiece({ line, literal });
		}
	}
}

/** The atoms of a whole command, with quoted strings and literals as `null` (never keys). */
export function commandTokens(command: Buffer): Array<string | null> {
	const text = command.toString('latin1');
	const tokens: Array<string | null> = [];
	let at = 0;
	while (at < text.length) {
		const c = text[at];
		if (c === ' ' || c === '(' || c === ')' || c === '\r' || c === '\n') at++;
		else if (c === '"') {
			at++;
			while (at < text.length && text[at] !== '"') at += text[at] === '\\' ? 2 : 1;
			at++;
			tokens.push(null);
		} else if (/^~?\{\d+\+?\}\r\n/.test(text.slice(at, at + 24))) {
			const mark = /^~?\{(\d+)\+?\}\r\n/.exec(text.slice(at, at + 24))!;
			at += mark[0].length + Number(mark[1]);
			tokens.push(null);
		} else {
			const start = at;
			while (at < text.length && !' ()\r\n"'.includes(text[at])) at++;
			tokens.push(text.slice(start, at));
		}
	}
	return tokens;
}

/** The first of `keys` a SEARCH command uses as a search key, if any. */
export function missingSearchKey(command: Buffer, keys: readonly string[]): string | undefined {
	const tokens = commandTokens(command);
	// Skip the tag, then UID if present, then SEARCH itself.
	let at = tokens[1]?.toUpperCase() === 'UID' ? 3 : 2;
	while (at < tokens.length) {
		const key = tokens[at++]?.toUpperCase();
		if (key === undefined) continue;
		if (keys.includes(key)) return key;
		// MODSEQ takes an optional entry name and type before its value.
		if (key === 'MODSEQ') at += tokens[at] === null ? 3 : 1;
		else at += KEY_ARGUMENTS[key] ?? 0;
	}
	return undefined;
}

/** The capability list of a line (`* CAPABILITY ...` or a `[CAPABILITY ...]` code) filtered. */
export function filterCapabilities(line: string, keep: (capability: string) => boolean): string {
	const filter = (list: string) =>
		list
			.split(' ')
			.filter((capability) => capability && keep(capability) && !NEVER_OFFERED.test(capability))
			.join(' ');
	const untagged = /^(\* CAPABILITY )(.*)(\r?\n)$/i.exec(line);
	if (untagged) return untagged[1] + filter(untagged[2]) + untagged[3];
	return line.replace(
		/\[CAPABILITY ([^\]]*)\]/i,
		(_, list: string) => `[CAPABILITY ${filter(list)}]`,
	);
}

/** A status response (`tag OK [CODE ...] text`) without the response codes listed. */
export function dropResponseCodes(line: string, codes: readonly string[]): string {
	return line.replace(
		/^(\S+ (?:OK|NO|BAD|PREAUTH|BYE) )\[([A-Z0-9.-]+)(?: [^\]]*)?\] ?/i,
		(whole, start: string, code: string) => (codes.includes(code.toUpperCase()) ? start : whole),
	);
}

function connectionPair(client: tls.TLSSocket, options: ImapProxyOptions, onChange: () => void) {
	const { rules } = options;
	const upstream = tls.connect({
		host: options.upstream.host,
		port: options.upstream.port,
		ca: options.upstream.ca,
		servername: 'localhost',
	});
	const end = () => {
		client.destroy();
		upstream.destroy();
	};
	client.on('error', end);
	upstream.on('error', end);
	client.on('close', end);
	upstream.on('close', end);

	// Lines the proxy itself answers, held until the server's stream is between two responses.
	const injected: string[] = [];
	const fromServer = new Framer((piece) => {
		if ('data' in piece) {
			client.write(piece.data);
			return;
		}
		// Lines that announce a literal are FETCH data, never a capability list.
		const keep = rules.keepCapability ?? (() => true);
		let text = piece.literal ? null : piece.line.toString('latin1');
		if (text !== null && rules.dropResponseCodes) {
			text = dropResponseCodes(text, rules.dropResponseCodes);
		}
		client.write(
			text === null
				? piece.line
				: Buffer.from(/CAPABILITY/i.test(text) ? filterCapabilities(text, keep) : text, 'latin1'),
		);
		if (fromServer.atBoundary) flushInjected();
	});
	const flushInjected = () => {
		while (injected.length) client.write(injected.shift()!);
	};
	const inject = (line: string) => {
		injected.push(line);
		if (fromServer.atBoundary) flushInjected();
	};

	// A SEARCH command is held whole (answering its synchronizing literals here) until the proxy
	// knows whether it uses a missing key; other commands pass through as they come.
	let held: Piece[] | undefined;
	let commandStart = true;
	const finishSearch = (pieces: Piece[]) => {
		const whole = Buffer.concat(pieces.map((p) => ('data' in p ? p.data : p.line)));
		const [, tag, uid] = SEARCH_COMMAND.exec(whole.toString('latin1'))!;
		const key = rules.search && missingSearchKey(whole, rules.search.keys);
		if (!key) {
			// The server must not send its own continuation for literals the proxy already took.
			const toServer = pieces.map((p) =>
				'data' in p
					? p.data
					: p.literal?.sync
						? Buffer.from(
								p.line.toString('latin1').replace(LITERAL_MARK, `{${p.literal.size}+}\r\n`),
								'latin1',
							)
						: p.line,
			);
			upstream.write(Buffer.concat(toServer));
			return;
		}
		onChange();
		if (rules.search!.policy === 'refuse') inject(`${tag} BAD Unknown search key ${key}\r\n`);
		else upstream.write(`${tag} ${uid ? 'UID ' : ''}SEARCH ALL\r\n`);
	};
	const fromClient = new Framer((piece) => {
		if (
			'line' in piece &&
			commandStart &&
			rules.search &&
			SEARCH_COMMAND.test(piece.line.toString('latin1'))
		)
			held = [];
		if ('line' in piece) commandStart = !piece.literal;
		if (!held) {
			upstream.write('data' in piece ? piece.data : piece.line);
			return;
		}
		held.push(piece);
		if ('line' in piece && piece.literal?.sync) inject('+ Ready for literal data\r\n');
		if (fromClient.atBoundary) {
			finishSearch(held);
			held = undefined;
		}
	});
	upstream.on('data', (chunk: Buffer) => fromServer.push(chunk));
	client.on('data', (chunk: Buffer) => fromClient.push(chunk));
}

/** Starts the proxy; it forwards each connection to a new TLS connection to `upstream`. */
export async function startImapProxy(options: ImapProxyOptions): Promise<ImapProxy> {
	const clients = new Set<tls.TLSSocket>();
	let searchesChanged = 0;
	const server = tls.createServer({ cert: options.cert, key: options.key }, (client) => {
		clients.add(client);
		client.on('close', () => clients.delete(client));
		connectionPair(client, options, () => searchesChanged++);
	});
	// A client that leaves during the handshake is no error of the proxy's.
	server.on('tlsClientError', () => undefined);
	await new Promise<void>((resolve, reject) => {
		server.once('error', reject);
		server.listen(options.port, options.host, () => resolve());
	});
	return {
		port: (server.address() as AddressInfo).port,
		get searchesChanged() {
			return searchesChanged;
		},
		async close() {
			const closed = new Promise<void>((resolve) => server.close(() => resolve()));
			for (const client of clients) client.destroy();
			await closed;
		},
	};
}
