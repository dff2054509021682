/** Message → Mark as Unread: clears \Seen. */
import { flagOperation } from './change';

export const { description, execute } = flagOperation('markUnread');
