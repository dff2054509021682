/** Message → Unflag: clears \Flagged. */
import { updateDisplayOptions } from 'n8n-workflow';

import { targetProperties } from '../common.descriptions';
import { changeFlag } from './changeMessage';

const displayOptions = { show: { resource: ['message'], operation: ['unflag'] } };

export const description = updateDisplayOptions(displayOptions, targetProperties);

export const execute = changeFlag('unflag');
