/**
 * The raw source of one located message, for forwarding: its size is asked first, so that a
 * message too large to send is refused before its bytes are fetched.
 */
import { ServerError } from '../errors';
import type { InboxClient } from './inbox';
import type { LocatedMessage } from './locate';

/** The message's source; `checkSize` is given RFC822.SIZE first and throws to stop the fetch. */
export async function fetchSource(
	inbox: InboxClient,
	located: LocatedMessage,
	checkSize: (size: number, where: string) => void,
): Promise<Buffer> {
	const where = `UID ${located.uid} in "${located.selected.path}" of ${inbox.address}`;
	const sized = await inbox.imap.fetchOne(String(located.uid), { size: true }, { uid: true });
	if (!sized) throw gone(where);
	checkSize(sized.size ?? 0, where);
	const fetched = await inbox.imap.fetchOne(String(located.uid), { source: true }, { uid: true });
	if (!fetched || !fetched.source) throw gone(where);
	return fetched.source;
}

function gone(where: string): ServerError {
	return new ServerError(
		`The message (${where}) was moved or deleted while it was being read. Nothing was sent: find it again (Message → Get Many) and run this item again.`,
	);
}
