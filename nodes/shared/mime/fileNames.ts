/**
 * Attachment file names: the sender's name made safe (no path, no control characters, not too
 * long), or `attachment-N.<ext>` from the media type when there is none.
 */
import { MAX_EXTENSION_CHARS, MAX_FILENAME_CHARS } from './limits';
import type { CollectedAttachment } from './parse';
import { quote, type Warnings } from './warnings';

const EXTENSIONS: Record<string, string> = {
	'application/gzip': 'gz',
	'application/json': 'json',
	'application/msword': 'doc',
	'application/octet-stream': 'bin',
	'application/pdf': 'pdf',
	'application/pgp-signature': 'asc',
	'application/pkcs7-signature': 'p7s',
	'application/rtf': 'rtf',
	'application/vnd.ms-excel': 'xls',
	'application/vnd.ms-powerpoint': 'ppt',
	'application/vnd.oasis.opendocument.text': 'odt',
	'application/vnd.openxmlformats-officedocument.presentationml.presentation': 'pptx',
	'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'xlsx',
	'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'docx',
	'application/x-pkcs7-signature': 'p7s',
	'application/xml': 'xml',
	'application/zip': 'zip',
	'audio/mpeg': 'mp3',
	'audio/ogg': 'ogg',
	'audio/wav': 'wav',
	'image/gif': 'gif',
	'image/jpeg': 'jpg',
	'image/png': 'png',
	'image/svg+xml': 'svg',
	'image/webp': 'webp',
	'message/delivery-status': 'txt',
	'message/rfc822': 'eml',
	'text/calendar': 'ics',
	'text/csv': 'csv',
	'text/html': 'html',
	'text/plain': 'txt',
	'text/xml': 'xml',
	'video/mp4': 'mp4',
};

/** Replaces each run of control characters (C0 and DEL) with one space. */
function withoutControlCharacters(text: string): string {
	let out = '';
	let inRun = false;
	for (const char of text) {
		const code = char.charCodeAt(0);
		const control = code < 0x20 || code === 0x7f;
		if (control && !inRun) out += ' ';
		else if (!control) out += char;
		inRun = control;
	}
	return out;
}

/** The attachment's file name, made safe, or `attachment-N.<ext>` when it has none. */
export function attachmentFileName(
	attachment: CollectedAttachment,
	position: number,
	warnings: Warnings,
): string {
	const given = attachment.filename ?? '';
	let name = withoutControlCharacters(given);
	// Keep only the last path segment: "../../x.txt" must not escape a download folder.
	name = name.slice(Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\')) + 1).trim();
	if (/^\.+$/.test(name)) name = '';
	if (!name) name = `attachment-${position + 1}.${extensionFor(attachment.mimeType)}`;
	if (given && name !== given) {
		warnings.add(`attachment name ${quote(given)} was changed to ${quote(name)}`);
	}
	if (name.length > MAX_FILENAME_CHARS) {
		const dot = name.lastIndexOf('.');
		const ext = dot > 0 && name.length - dot <= MAX_EXTENSION_CHARS ? name.slice(dot) : '';
		name = name.slice(0, MAX_FILENAME_CHARS - ext.length) + ext;
		warnings.add(
			`attachment name ${quote(name)} was shortened to ${MAX_FILENAME_CHARS} characters`,
		);
	}
	return name;
}

function extensionFor(mimeType: string): string {
	const known = EXTENSIONS[mimeType];
	if (known) return known;
	const [top, sub = ''] = mimeType.split('/');
	// image/tiff → tiff: for media types the subtype is usually the extension.
	if (['image', 'audio', 'video'].includes(top) && /^[a-z0-9]{2,8}$/.test(sub)) return sub;
	return 'bin';
}
