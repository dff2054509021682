/** Message → Mark as Read: sets \Seen on the message. */
import { updateDisplayOptions } from 'n8n-workflow';

import { targetProperties } from '../common.descriptions';
import { changeFlag } from './changeMessage';

const displayOptions = { show: { resource: ['message'], operation: ['markRead'] } };

export const description = updateDisplayOptions(displayOptions, targetProperties);

export const execute = changeFlag('markRead');
