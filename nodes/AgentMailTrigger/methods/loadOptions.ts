import type { ILoadOptionsFunctions, INodePropertyOptions } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { tryParseConnection } from '../../shared/connection';
import { listFolders as readFolders } from '../../shared/imap/browse';

/** The inbox's folders (IMAP LIST), for the Folder and Move To pickers. */
export async function listFolders(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
	const parsed = tryParseConnection(await this.getCredentials('agentMailInboxApi'));
	if (!parsed.ok) throw new NodeOperationError(this.getNode(), parsed.message);
	const folders = await readFolders(parsed.connection).then(
		(list) => ({ list }),
		(error: Error) => ({ error }),
	);
	if ('error' in folders) throw new NodeOperationError(this.getNode(), folders.error.message);
	return folders.list.map((path) => ({ name: path, value: path }));
}
