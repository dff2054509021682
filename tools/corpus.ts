/** The corpus of real-world and broken messages (test/fixtures/php-mime-mail-parser). */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

export const CORPUS_DIR = path.join(__dirname, '..', 'test', 'fixtures', 'php-mime-mail-parser');

/** Corpus message file names (everything but LICENSE and README.md). */
export function corpusFiles(): string[] {
	return readdirSync(CORPUS_DIR)
		.filter((name) => name !== 'LICENSE' && name !== 'README.md')
		.sort();
}

export function readCorpus(name: string): Buffer {
	return readFileSync(path.join(CORPUS_DIR, name));
}
