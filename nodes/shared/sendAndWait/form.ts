/**
 * The questions of a response form, defined as n8n's Form node defines its fields (label, type,
 * options, required), checked before the question is sent, drawn as HTML inputs, and read back
 * from the person's submission into the values the waiting execution resumes with.
 */
import { errorText, InputError } from '../errors';
import { escapeHtml } from './html';

/** The field types the response page draws; the rest of n8n's Form node types are refused. */
const FIELD_TYPES = [
	'text',
	'textarea',
	'email',
	'number',
	'password',
	'date',
	'dropdown',
	'checkbox',
	'radio',
] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

/** Types whose answers are picked from the field's options. */
const CHOICE_TYPES = new Set<FieldType>(['dropdown', 'checkbox', 'radio']);
/** A page of a hundred questions is not a question; the cap keeps a bad expression visible. */
const MAX_FIELDS = 100;
/** Characters kept of one answer: a form field is not an upload. */
const MAX_ANSWER_CHARS = 100_000;

/** One field as n8n's Form node writes it (its `formFields.values` entries, or the JSON form). */
export interface FormFieldInput {
	fieldLabel?: string;
	fieldType?: string;
	placeholder?: string;
	requiredField?: boolean;
	multiselect?: boolean;
	fieldOptions?: { values?: Array<{ option?: string }> };
}

/** A checked field, ready to draw and to read. */
export interface FormField {
	label: string;
	type: FieldType;
	placeholder: string;
	required: boolean;
	/** Dropdown with several answers, or checkboxes. */
	multiple: boolean;
	options: string[];
	/** The input's name in the page: its position, so any label works. */
	name: string;
}

/**
 * Checks the fields of a form and returns them ready to use.
 *
 * @throws InputError naming the field that is wrong and what to change.
 */
export function checkFields(input: FormFieldInput[] | undefined): FormField[] {
	const fields = input ?? [];
	if (fields.length === 0) {
		throw new InputError(
			'The response form has no fields: add at least one under Form Fields (or in the JSON form definition).',
		);
	}
	if (fields.length > MAX_FIELDS) {
		throw new InputError(`The response form has ${fields.length} fields; at most ${MAX_FIELDS}.`);
	}
	const labels = new Set<string>();
	return fields.map((field, index) => {
		const label = String(field.fieldLabel ?? '').trim();
		const where = `Form field ${index + 1}${label ? ` ("${label}")` : ''}`;
		if (!label) throw new InputError(`${where} has no label: every field needs one.`);
		if (labels.has(label)) {
			throw new InputError(
				`${where}: two fields are labelled "${label}"; each label names one answer.`,
			);
		}
		labels.add(label);
		const type = (field.fieldType || 'text') as FieldType;
		if (!FIELD_TYPES.includes(type)) {
			throw new InputError(
				`${where} has the type "${field.fieldType}", which a response form does not offer: use one of ${FIELD_TYPES.join(', ')}.`,
			);
		}
		const options = (field.fieldOptions?.values ?? [])
			.map((value) => String(value.option ?? '').trim())
			.filter(Boolean);
		if (CHOICE_TYPES.has(type) && options.length === 0) {
			throw new InputError(
				`${where} is a ${type} without options: add the answers to choose from.`,
			);
		}
		return {
			label,
			type,
			placeholder: String(field.placeholder ?? ''),
			required: field.requiredField === true,
			multiple: type === 'checkbox' || (type === 'dropdown' && field.multiselect === true),
			options,
			name: `field-${index}`,
		};
	});
}

/**
 * The fields of a form written as JSON (n8n's Form node format), checked.
 *
 * @param parse reads the JSON into field objects; its error becomes part of ours.
 */
export function fieldsFromJson(parse: () => unknown): FormField[] {
	let parsed: unknown;
	let problem: string | undefined;
	try {
		parsed = parse();
	} catch (error) {
		problem = errorText(error);
	}
	if (problem !== undefined) {
		throw new InputError(`Form Fields (JSON) is not a list of form fields: ${problem}`);
	}
	if (!Array.isArray(parsed)) throw new InputError('Form Fields (JSON) must be a list of fields.');
	return checkFields(parsed as FormFieldInput[]);
}

function inputHtml(field: FormField): string {
	const required = field.required ? ' required' : '';
	const placeholder = field.placeholder ? ` placeholder="${escapeHtml(field.placeholder)}"` : '';
	const name = escapeHtml(field.name);
	switch (field.type) {
		case 'textarea':
			return `<textarea id="${name}" name="${name}" rows="5"${placeholder}${required}></textarea>`;
		case 'dropdown':
			return `<select id="${name}" name="${name}"${field.multiple ? ' multiple' : ''}${required}>${
				field.multiple ? '' : '<option value="">—</option>'
			}${field.options
				.map((option) => `<option>${escapeHtml(option)}</option>`)
				.join('')}</select>`;
		case 'checkbox':
		case 'radio':
			return field.options
				.map(
					(option) =>
						`<label class="choice"><input type="${field.type}" name="${name}" value="${escapeHtml(option)}"${
							field.type === 'radio' ? required : ''
						}> ${escapeHtml(option)}</label>`,
				)
				.join('');
		default:
			return `<input id="${name}" type="${field.type}" name="${name}"${placeholder}${required}>`;
	}
}

/** The form's fields as HTML, one labelled block each. */
export function fieldsHtml(fields: FormField[]): string {
	return fields
		.map(
			(field) =>
				`<div class="field"><label for="${escapeHtml(field.name)}">${escapeHtml(field.label)}${
					field.required ? ' *' : ''
				}</label>${inputHtml(field)}</div>`,
		)
		.join('\n');
}

function clip(value: unknown): string {
	return String(value ?? '').slice(0, MAX_ANSWER_CHARS);
}

/**
 * The person's answers by field label. A number field gives a number (null when empty), a
 * field with several answers an array, the rest text.
 *
 * @throws InputError when a required field is empty or an answer is not one of the field's options.
 */
export function readAnswers(
	fields: FormField[],
	body: Record<string, unknown>,
): Record<string, string | number | string[] | null> {
	const answers: Record<string, string | number | string[] | null> = {};
	for (const field of fields) {
		const raw = body[field.name];
		if (field.multiple) {
			const values = (Array.isArray(raw) ? raw : raw === undefined || raw === '' ? [] : [raw]).map(
				clip,
			);
			const unknown = values.find((value) => !field.options.includes(value));
			if (unknown !== undefined)
				throw new InputError(`"${field.label}" has no option "${unknown}".`);
			if (field.required && values.length === 0)
				throw new InputError(`"${field.label}" is required.`);
			answers[field.label] = values;
			continue;
		}
		const value = clip(Array.isArray(raw) ? raw[0] : raw).trim();
		if (field.required && value === '') throw new InputError(`"${field.label}" is required.`);
		if (CHOICE_TYPES.has(field.type) && value !== '' && !field.options.includes(value)) {
			throw new InputError(`"${field.label}" has no option "${value}".`);
		}
		if (field.type === 'number') {
			const number = value === '' ? null : Number(value);
			if (number !== null && !Number.isFinite(number)) {
				throw new InputError(`"${field.label}" must be a number.`);
			}
			answers[field.label] = number;
			continue;
		}
		answers[field.label] = value;
	}
	return answers;
}
