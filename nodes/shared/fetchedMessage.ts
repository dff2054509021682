/** A message as the trigger receives it: from its session's catch-up, or as its test event. */

export interface FetchedMessage {
	uid: number;
	uidValidity: string;
	folder: string;
	messageId: string | null;
	flags: string[];
	size: number;
	internalDate: Date | null;
	/** The whole message; absent when it is over the size cap. */
	source?: Buffer;
	/**
	 * Without `source`: the header block (or the start of the message, which begins with it).
	 * With `source`, empty: the headers are in the source.
	 */
	headers: Buffer;
}
