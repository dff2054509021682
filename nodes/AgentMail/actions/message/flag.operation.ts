/** Message → Flag: sets \Flagged (a star in most mail clients). */
import { updateDisplayOptions } from 'n8n-workflow';

import { targetProperties } from '../common.descriptions';
import { changeFlag } from './changeMessage';

const displayOptions = { show: { resource: ['message'], operation: ['flag'] } };

export const description = updateDisplayOptions(displayOptions, targetProperties);

export const execute = changeFlag('flag');
