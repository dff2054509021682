/** Message → Mark as Unread: clears \Seen. */
import { updateDisplayOptions } from 'n8n-workflow';

import { targetProperties } from '../common.descriptions';
import { changeFlag } from './changeMessage';

const displayOptions = { show: { resource: ['message'], operation: ['markUnread'] } };

export const description = updateDisplayOptions(displayOptions, targetProperties);

export const execute = changeFlag('markUnread');
