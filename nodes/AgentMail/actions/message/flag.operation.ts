/** Message → Flag: sets \Flagged (a star in most mail clients). */
import { flagOperation } from './change';

export const { description, execute } = flagOperation('flag');
