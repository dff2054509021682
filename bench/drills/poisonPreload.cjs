/**
 * Loaded into the drills' n8n with `node --require` (bench/drills/handOver.ts, the poison
 * drill): our trigger's MIME conversion throws for a message that carries an X-Drill-Poison
 * header, the way a bug in it would. Every other message is converted as always. The trigger
 * calls parseMessage through its module's exports, so replacing that export is enough; the
 * module is the one n8n loads (the package is linked into n8n's nodes folder, and Node loads a
 * linked module by its real path).
 */
'use strict';
const path = require('node:path');

const toItem = require(
	path.resolve(__dirname, '..', '..', 'dist', 'nodes', 'shared', 'mime', 'toItem.js'),
);
const parseMessage = toItem.parseMessage;
/** Only the header block is looked at. */
const HEADER_BYTES = 8192;

toItem.parseMessage = async function (raw, ...rest) {
	if (raw.subarray(0, HEADER_BYTES).includes('X-Drill-Poison:')) {
		throw new Error('drill: this conversion throws, as a bug would');
	}
	return await parseMessage.call(this, raw, ...rest);
};
