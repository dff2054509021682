/** Every resource of the node and its operations: the router's table is checked against it. */
import type { AllEntities } from 'n8n-workflow';

type AgentMailMap = {
	message:
		| 'send'
		| 'sendAndWait'
		| 'reply'
		| 'forward'
		| 'getMany'
		| 'get'
		| 'markRead'
		| 'markUnread'
		| 'flag'
		| 'unflag'
		| 'move'
		| 'delete';
	folder: 'getMany';
	inbox: 'checkCapabilities';
	thread: 'get';
};

export type AgentMailType = AllEntities<AgentMailMap>;
