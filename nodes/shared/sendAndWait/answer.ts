/**
 * What a Send and Wait link does with one request: a GET (a person, a scanner or a preview
 * opening the link) shows the page and records nothing; a person's POST from that page
 * records the answer; an automated client's POST is ignored. The first recorded answer resumes
 * the execution, and n8n answers every later request itself (the execution no longer waits).
 */
import { errorText } from '../errors';
import { isAutomated } from './bots';
import { fieldsHtml, readAnswers, type FormField } from './form';
import { page, postForm, recordedPage, textToHtml } from './html';

export type ResponseType = 'approval' | 'freeText' | 'customForm';

/** What the page shows, read from the node's parameters. */
export interface AnswerConfig {
	responseType: ResponseType;
	/** The question as sent. */
	message: string;
	/** The page's title; the mail's subject when the node sets none. */
	title: string;
	approveLabel: string;
	disapproveLabel: string;
	/** Free text and custom form: the submit button. */
	submitLabel: string;
	/** Custom form: its checked fields. */
	fields: FormField[];
}

/** One request to the link, as n8n hands it over. */
export interface AnswerRequest {
	method: string;
	/** The link's `approved` query parameter (approval only). */
	approved: boolean;
	userAgent: string | undefined;
	/** The POSTed form, field name to value(s). */
	body: Record<string, unknown>;
}

export type AnswerOutcome =
	/** Show this page; the execution keeps waiting. */
	| { kind: 'page'; html: string; status: number }
	/** An automated client: answer with nothing, record nothing. */
	| { kind: 'ignored' }
	/** Record `data` (the output's `data` field) and show `html`. */
	| { kind: 'answer'; data: Record<string, unknown>; html: string };

/** The free-text answer's field name in the page. */
const TEXT_FIELD = 'text';

function questionHtml(config: AnswerConfig): string {
	return config.message.trim() ? `<p class="message">${textToHtml(config.message.trim())}</p>` : '';
}

function formPage(config: AnswerConfig & { approved: boolean }, error?: string): string {
	const problem = error ? `<p class="message"><strong>${textToHtml(error)}</strong></p>` : '';
	if (config.responseType === 'approval') {
		const label = config.approved ? config.approveLabel : config.disapproveLabel;
		return page(
			config.title,
			`${questionHtml(config)}${problem}${postForm('', label, !config.approved)}`,
		);
	}
	const inner =
		config.responseType === 'freeText'
			? `<div class="field"><label for="${TEXT_FIELD}">Your answer *</label><textarea id="${TEXT_FIELD}" name="${TEXT_FIELD}" rows="6" required></textarea></div>`
			: fieldsHtml(config.fields);
	return page(
		config.title,
		`${questionHtml(config)}${problem}${postForm(inner, config.submitLabel)}`,
	);
}

/** What to do with one request to the link; `now` stamps the answer. */
export function answer(
	base: AnswerConfig,
	request: AnswerRequest,
	now = new Date(),
): AnswerOutcome {
	const config = { ...base, approved: request.approved };
	if (request.method !== 'POST') return { kind: 'page', html: formPage(config), status: 200 };
	if (isAutomated(request.userAgent)) return { kind: 'ignored' };
	const respondedAt = now.toISOString();
	if (config.responseType === 'approval') {
		return {
			kind: 'answer',
			data: { approved: request.approved, respondedAt },
			html: recordedPage(),
		};
	}
	if (config.responseType === 'freeText') {
		const raw = request.body[TEXT_FIELD];
		const text = String(Array.isArray(raw) ? raw[0] : (raw ?? '')).trim();
		if (!text)
			return { kind: 'page', html: formPage(config, 'Please write an answer.'), status: 400 };
		return { kind: 'answer', data: { text, respondedAt }, html: recordedPage() };
	}
	try {
		const answers = readAnswers(config.fields, request.body);
		// respondedAt last: a field of that name cannot stand in for the time of the answer.
		return { kind: 'answer', data: { ...answers, respondedAt }, html: recordedPage() };
	} catch (error) {
		return { kind: 'page', html: formPage(config, errorText(error)), status: 400 };
	}
}
