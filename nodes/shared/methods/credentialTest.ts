/**
 * n8n's side of the credential test: every node that uses the AgentMail credential declares
 * `testedBy: 'agentMailInboxConnectionTest'` and lists this function under
 * `methods.credentialTest`, so n8n runs it when the credential is saved.
 */
import type {
	ICredentialsDecrypted,
	ICredentialTestFunctions,
	INodeCredentialTestResult,
} from 'n8n-workflow';

import { testConnection } from '../connectionTest';

export async function agentMailInboxConnectionTest(
	this: ICredentialTestFunctions,
	credential: ICredentialsDecrypted,
): Promise<INodeCredentialTestResult> {
	const { status, message } = await testConnection(credential.data ?? {});
	return { status, message };
}
