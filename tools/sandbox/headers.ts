import addressparser from 'nodemailer/lib/addressparser';

/**
 * The addresses of a raw message's From header(s), lower case; undefined when it has none.
 * Only the header block is looked at (up to the first empty line), folded lines unfolded.
 */
export function headerFromAddresses(raw: Buffer): string[] | undefined {
	const text = raw.toString('latin1');
	const end = text.search(/\r?\n\r?\n/);
	const header = (end === -1 ? text : text.slice(0, end)).replace(/\r?\n[ \t]+/g, ' ');
	const lines = [...header.matchAll(/^from:(.*)$/gim)];
	// No From header at all (not the same as an empty one).
	if (lines.length === 0) return undefined;
	return lines.flatMap((line) =>
		addressparser(line[1], { flatten: true }).map((entry) => entry.address.toLowerCase()),
	);
}
