import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { runCommand } from './processes';

/** One openssl call (key generation included) never takes this long. */
const OPENSSL_TIMEOUT_MS = 30_000;
/** Both certificates are valid for ten years: a sandbox folder outlives many test runs. */
const CERT_VALIDITY_DAYS = '3650';
/** A server certificate expiring within this many seconds is made again. */
const CERT_MIN_REMAINING_SECONDS = String(7 * 24 * 60 * 60);

/** The sandbox's TLS material, all PEM files. */
export interface TlsFiles {
	/** The sandbox CA certificate, which clients pass as `ca` to verify the servers. */
	ca: string;
	/** Server certificate for localhost (SAN DNS:localhost, IP:127.0.0.1), signed by the CA. */
	cert: string;
	/** Private key of the server certificate. */
	key: string;
}

async function openssl(args: string[]): Promise<void> {
	const result = await runCommand('openssl', args, { timeoutMs: OPENSSL_TIMEOUT_MS });
	if (result.code !== 0) {
		throw new Error(`openssl ${args[0]} failed: ${result.stderr.toString().trim()}`);
	}
}

async function opensslSucceeds(args: string[]): Promise<boolean> {
	const result = await runCommand('openssl', args, { timeoutMs: OPENSSL_TIMEOUT_MS });
	return result.code === 0;
}

/**
 * Makes the sandbox CA and a localhost server certificate in `tlsDir` on first use and reuses
 * them afterwards, so clients that trust the CA keep working across restarts.
 */
export async function ensureTls(tlsDir: string): Promise<TlsFiles> {
	const files: TlsFiles = {
		ca: path.join(tlsDir, 'ca.pem'),
		cert: path.join(tlsDir, 'server.crt'),
		key: path.join(tlsDir, 'server.key'),
	};
	const caKey = path.join(tlsDir, 'ca.key');
	if (
		existsSync(files.ca) &&
		existsSync(files.key) &&
		existsSync(files.cert) &&
		(await opensslSucceeds(['verify', '-CAfile', files.ca, files.cert])) &&
		(await opensslSucceeds([
			'x509',
			'-in',
			files.cert,
			'-noout',
			'-checkend',
			CERT_MIN_REMAINING_SECONDS,
		]))
	) {
		return files;
	}
	// Something is missing, broken or about to expire: make everything again from scratch.
	await rm(tlsDir, { recursive: true, force: true });
	await mkdir(tlsDir, { recursive: true, mode: 0o700 });
	const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
	await openssl([
		'req', '-x509', '-new', ...ecKey, '-keyout', caKey, '-out', files.ca,
		'-days', CERT_VALIDITY_DAYS, '-subj', '/CN=AgentMail Sandbox CA',
		'-addext', 'basicConstraints=critical,CA:TRUE',
		'-addext', 'keyUsage=critical,keyCertSign,cRLSign',
	]); // prettier-ignore
	const csr = path.join(tlsDir, 'server.csr');
	const extensions = path.join(tlsDir, 'server.ext');
	await openssl([
		'req',
		'-new',
		...ecKey,
		'-keyout',
		files.key,
		'-out',
		csr,
		'-subj',
		'/CN=localhost',
	]);
	await writeFile(
		extensions,
		[
			'subjectAltName=DNS:localhost,IP:127.0.0.1',
			'basicConstraints=critical,CA:FALSE',
			'keyUsage=critical,digitalSignature,keyEncipherment',
			'extendedKeyUsage=serverAuth',
			'',
		].join('\n'),
	);
	await openssl([
		'x509', '-req', '-in', csr, '-CA', files.ca, '-CAkey', caKey, '-CAcreateserial',
		'-out', files.cert, '-days', CERT_VALIDITY_DAYS, '-extfile', extensions,
	]); // prettier-ignore
	return files;
}
