/** What n8n calls on the node outside an execution: the credential test and the folder list. */
import { agentMailInboxConnectionTest } from '../../shared/methods/credentialTest';
import { listFolders } from '../../shared/methods/loadOptions';

export const credentialTest = { agentMailInboxConnectionTest };
export const loadOptions = { listFolders };
