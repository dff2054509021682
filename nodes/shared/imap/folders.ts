import type { AgentMailConnection } from '../connection';
import { withClient, type ClientFactory } from './connect';

/** Folder names of the inbox, for the node's folder list (\Noselect ones left out). */
export async function folderPaths(
	connection: AgentMailConnection,
	createClient?: ClientFactory,
): Promise<string[]> {
	return await withClient(
		connection,
		async (client) => {
			const folders = await client.list();
			return folders.filter((f) => !f.flags?.has('\\Noselect')).map((f) => f.path);
		},
		createClient,
	);
}
