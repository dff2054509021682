/** Message → Mark as Read: sets \Seen on the message. */
import { flagOperation } from './change';

export const { description, execute } = flagOperation('markRead');
