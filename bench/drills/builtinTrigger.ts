/**
 * What n8n's Email Trigger (IMAP) does, as read in n8n 2.41's source (EmailReadImapV2's
 * trigger() and @n8n/imap's ImapSimple), for the drills that turn on it.
 */

/** How it starts, on activation and on every re-activation. */
export const BUILTIN_ON_START =
	"On activation it opens the folder and, only when its static data holds the last UID it handled, looks at once for unseen mail past that UID (@n8n/imap's catchUp); without one it waits for the server's next new-mail event, and mail already waiting raises none.";
