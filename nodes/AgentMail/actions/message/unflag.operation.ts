/** Message → Unflag: clears \Flagged. */
import { flagOperation } from './change';

export const { description, execute } = flagOperation('unflag');
