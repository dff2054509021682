/**
 * The question mail of Send and Wait: the message, then one link per answer. Every link opens
 * a page first; only the person's press of the button on that page records the answer, so a
 * scanner or preview that follows the links answers nothing.
 */
import { escapeHtml, textToHtml } from './html';

/** One link of the question: where it goes and what it says. */
export interface AnswerLink {
	label: string;
	url: string;
	/** The main answer is drawn as a filled button, the other as an outlined one. */
	primary: boolean;
}

/** The question as text and HTML parts. */
export interface QuestionBody {
	text: string;
	html: string;
}

/** What the mail says under the links, so a person knows what a click does. */
export const LINK_NOTE = 'Each link opens a page where you confirm your answer.';

const PRIMARY =
	'display:inline-block;padding:10px 18px;margin:0 8px 8px 0;border-radius:6px;background:#1d4ed8;color:#ffffff;text-decoration:none;font-weight:600';
const SECONDARY =
	'display:inline-block;padding:9px 17px;margin:0 8px 8px 0;border-radius:6px;border:1px solid #1d4ed8;color:#1d4ed8;text-decoration:none;font-weight:600';

/** The question's body: `message` (plain text), then the links; `replyNote` under them. */
export function questionBody(message: string, links: AnswerLink[], replyNote = ''): QuestionBody {
	const text = [
		message.trim(),
		'',
		...links.map((link) => `${link.label}: ${link.url}`),
		'',
		LINK_NOTE,
		...(replyNote ? [replyNote] : []),
		'',
	].join('\n');
	const buttons = links
		.map(
			(link) =>
				`<a href="${escapeHtml(link.url)}" style="${link.primary ? PRIMARY : SECONDARY}">${escapeHtml(link.label)}</a>`,
		)
		.join('\n');
	const html = `<!DOCTYPE html><html><body style="font-family:Arial,Helvetica,sans-serif;color:#1d1d1f">
<p style="line-height:1.5">${textToHtml(message.trim())}</p>
<p>${buttons}</p>
<p style="font-size:12px;color:#6e6e73">${escapeHtml(LINK_NOTE)}${replyNote ? `<br>${escapeHtml(replyNote)}` : ''}</p>
</body></html>`;
	return { text, html };
}
