import type { ILoadOptionsFunctions, INodePropertyOptions } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { forInbox, tryParseConnection } from '../connection';
import { errorText } from '../errors';
import { folderPaths } from '../imap/folders';

/** The inbox's folders (IMAP LIST), for the Folder and Move To pickers. */
export async function listFolders(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
	const parsed = tryParseConnection(await this.getCredentials('agentMailInboxApi'));
	if (!parsed.ok) throw new NodeOperationError(this.getNode(), parsed.message);
	let connection;
	try {
		// The folders of the inbox the node is set to, when it names one.
		connection = forInbox(parsed.connection, this.getCurrentNodeParameter('inbox') as string);
	} catch (error) {
		throw new NodeOperationError(this.getNode(), errorText(error));
	}
	const folders = await folderPaths(connection).then(
		(list) => ({ list }),
		(error: Error) => ({ error }),
	);
	if ('error' in folders) throw new NodeOperationError(this.getNode(), folders.error.message);
	return folders.list.map((path) => ({ name: path, value: path }));
}
