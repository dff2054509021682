/**
 * The pages a person sees when they open a Send and Wait link: one small self-contained HTML
 * document each (no scripts, no outside assets), so they render the same behind any proxy and
 * in any browser, and post back to the very address they were opened from.
 */

/** Text made safe for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
	return text
		.replace(/&/g, '&amp;')
		.replace(/</g, '&lt;')
		.replace(/>/g, '&gt;')
		.replace(/"/g, '&quot;')
		.replace(/'/g, '&#39;');
}

/** Plain text as HTML paragraphs: line breaks kept, nothing interpreted. */
export function textToHtml(text: string): string {
	return escapeHtml(text).replace(/\r?\n/g, '<br>');
}

const STYLE = `body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f5f5f7;color:#1d1d1f;margin:0;padding:32px 16px}
main{max-width:560px;margin:0 auto;background:#fff;border-radius:12px;padding:28px;box-shadow:0 1px 4px rgba(0,0,0,.08)}
h1{font-size:20px;margin:0 0 12px}p.message{line-height:1.5;margin:0 0 20px}
.field{margin:0 0 16px}.field>label{display:block;font-weight:600;margin:0 0 6px}
input[type=text],input[type=email],input[type=number],input[type=password],input[type=date],select,textarea{width:100%;box-sizing:border-box;padding:8px;border:1px solid #c7c7cc;border-radius:6px;font:inherit}
label.choice{display:block;margin:4px 0}
button{font:inherit;font-weight:600;padding:10px 18px;border-radius:6px;border:0;background:#1d4ed8;color:#fff;cursor:pointer}
button.secondary{background:#e5e7eb;color:#1d1d1f}
footer{margin-top:20px;font-size:12px;color:#6e6e73}`;

/** A whole page: a title, then `body` (already HTML). */
export function page(title: string, body: string): string {
	return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex,nofollow"><meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body><main><h1>${escapeHtml(title)}</h1>
${body}
</main></body></html>`;
}

/**
 * A form that posts to the address the page was opened from (its action is empty), so the
 * signed link's query string goes back unchanged whatever proxy or sub-path n8n sits behind.
 * Multipart, as n8n requires of a Send and Wait form's answer (and parses for any other).
 */
export function postForm(inner: string, button: string, secondary = false): string {
	return `<form method="post" action="" enctype="multipart/form-data">
${inner}
<button type="submit"${secondary ? ' class="secondary"' : ''}>${escapeHtml(button)}</button>
</form>`;
}

/** The page shown once an answer has been recorded. */
export function recordedPage(): string {
	return page(
		'Thanks, your answer was recorded',
		'<p class="message">You can close this page now.</p>',
	);
}
