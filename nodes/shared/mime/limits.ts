/**
 * Every bound the MIME → item conversion works within, in one place.
 */

/** Default per-attachment cap: AgentMail accepts 10 MB messages, so this only stops outliers. */
export const DEFAULT_MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024;

/** Default time box for one parse; mailparser has a history of stalls on malformed mail. */
export const DEFAULT_PARSE_TIMEOUT_MS = 10_000;

/** Default prefix of the binary property names attachments get (`attachment_0`, ...). */
export const DEFAULT_BINARY_PREFIX = 'attachment_';

/** Binary property the whole message goes to when `includeRaw` is set. */
export const RAW_BINARY_PROPERTY = 'raw';

/** Largest header block read, in bytes (mailparser's own default `maxHeadSize`). */
export const MAX_HEADER_BLOCK_BYTES = 1024 * 1024;

/** Most header fields kept from one header block; a real message has well under 200. */
export const MAX_HEADER_FIELDS = 2000;

/** Deepest multipart nesting the structure check follows. */
export const MAX_MIME_DEPTH = 32;

/** Most MIME parts the structure check visits (mailparser's `maxChildNodes` default). */
export const MAX_MIME_PARTS = 1000;

/** The raw message is handed to mailparser in slices this big, yielding in between. */
export const PARSE_CHUNK_BYTES = 64 * 1024;

/** HTML longer than this (in characters) is not converted to text (html-to-text is slow). */
export const MAX_HTML_TO_TEXT_CHARS = 2 * 1024 * 1024;

/**
 * Reply extraction only looks at this many leading characters of the text: the new reply is at
 * the top, and email-reply-parser's patterns grow faster than linearly on long input.
 */
export const MAX_REPLY_SOURCE_CHARS = 64 * 1024;

/** Longest attachment file name kept, in characters (common file system limit). */
export const MAX_FILENAME_CHARS = 255;

/** Longest extension kept when a long file name is shortened (".numbers" fits, junk does not). */
export const MAX_EXTENSION_CHARS = 16;

/** Most warnings one item carries; the rest are counted in a last line. */
export const MAX_WARNINGS = 50;

/** Longest header value quoted inside a warning. */
export const MAX_QUOTED_CHARS = 80;
