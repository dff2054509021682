/**
 * Requests that are not a person: mail scanners, link previews and crawlers open every link in
 * a message, and some (Teams' preview among them) send no user agent at all. They may load a
 * page, which records nothing; their POST is ignored too.
 */

/** Words that mark an automated client's user agent (case-insensitive). */
const BOT_MARKS =
	/bot\b|bot\/|crawl|spider|slurp|preview|scanner|scan\/|headless|facebookexternalhit|skypeuripreview|teams|whatsapp|linkedinbot|embedly|outlook-safelinks|proofpoint|mimecast|barracuda|curl\/|wget\/|python-requests|go-http-client|java\/|okhttp/i;

/** True for a request that did not come from a person's browser. */
export function isAutomated(userAgent: string | undefined): boolean {
	if (!userAgent || !userAgent.trim()) return true;
	return BOT_MARKS.test(userAgent);
}
