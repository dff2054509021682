/**
 * Reply by Email's approval: the decision read from the start of a reply's new text. A reply
 * that starts with none of the words, or with words of both kinds, decides nothing: its text
 * comes back and the workflow sees no `approved`, never a guess.
 */

/** Words that approve when none are set in the node (case-insensitive). */
export const DEFAULT_APPROVE_WORDS = [
	'yes',
	'approve',
	'approved',
	'ok',
	'okay',
	'go ahead',
	'sure',
	'confirmed',
	'lgtm',
];

/** Words that decline when none are set in the node (case-insensitive). */
export const DEFAULT_DECLINE_WORDS = [
	'no',
	'decline',
	'declined',
	'reject',
	'rejected',
	"don't",
	'do not',
	'stop',
	'deny',
	'denied',
];

/** A comma-separated list of words or phrases; empty gives `fallback`. */
export function parseWords(list: string | undefined, fallback: string[]): string[] {
	const words = (list ?? '')
		.split(',')
		.map((word) => normalise(word))
		.filter(Boolean);
	return words.length ? words : fallback;
}

/** Lower case, curly apostrophes straight, runs of spaces as one. */
function normalise(text: string): string {
	return text
		.toLowerCase()
		.replace(/[\u2018\u2019]/g, "'")
		.replace(/\s+/g, ' ')
		.trim();
}

/**
 * Whether `text` starts with `word` as a whole word or phrase (not "nobody" for "no"), and not
 * as a question ("OK?" asks, it does not approve).
 */
function startsWithWord(text: string, word: string): boolean {
	if (!text.startsWith(word)) return false;
	const rest = text.slice(word.length);
	return rest === '' || (!/^[\p{L}\p{N}'_/-]/u.test(rest) && !/^\s*\?/.test(rest));
}

/** The longest of `words` the text starts with, or ''. */
function leadingWord(text: string, words: string[]): string {
	return (
		words.filter((word) => startsWithWord(text, word)).sort((a, b) => b.length - a.length)[0] ?? ''
	);
}

/**
 * true (approve), false (decline) or undefined (no decision) for a reply's new text. The
 * longer match wins when the words overlap ("don't" before "do"); a tie decides nothing.
 */
export function decide(
	replyText: string,
	approveWords: string[],
	declineWords: string[],
): boolean | undefined {
	// Leading punctuation and quotes ("> ", "*Yes*") do not hide the answer.
	const text = normalise(replyText).replace(/^[^\p{L}\p{N}]+/u, '');
	const approve = leadingWord(text, approveWords);
	const decline = leadingWord(text, declineWords);
	if (approve.length === decline.length) return undefined;
	return approve.length > decline.length;
}
