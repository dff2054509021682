import {
	checkFields,
	fieldsFromJson,
	fieldsHtml,
	readAnswers,
} from '../../../nodes/shared/sendAndWait/form';

describe('checkFields', () => {
	it('refuses a form with no fields, a field without a label, a repeated label, an unknown type and a choice without options', () => {
		expect(() => checkFields([])).toThrow('has no fields');
		expect(() => checkFields(undefined)).toThrow('has no fields');
		expect(() => checkFields([{ fieldLabel: ' ' }])).toThrow('Form field 1 has no label');
		expect(() => checkFields([{ fieldLabel: 'A' }, { fieldLabel: 'A' }])).toThrow(
			'two fields are labelled "A"',
		);
		expect(() => checkFields([{ fieldLabel: 'File', fieldType: 'file' }])).toThrow(
			'type "file", which a response form does not offer',
		);
		expect(() => checkFields([{ fieldLabel: 'Pick', fieldType: 'radio' }])).toThrow(
			'radio without options',
		);
	});

	it('names each input by position, so any label works', () => {
		const fields = checkFields([
			{ fieldLabel: 'Your "name" <here>', requiredField: true },
			{
				fieldLabel: 'Tags',
				fieldType: 'dropdown',
				multiselect: true,
				fieldOptions: { values: [{ option: 'a' }] },
			},
		]);
		expect(fields.map((f) => [f.name, f.type, f.required, f.multiple])).toEqual([
			['field-0', 'text', true, false],
			['field-1', 'dropdown', false, true],
		]);
		const html = fieldsHtml(fields);
		expect(html).toContain('Your &quot;name&quot; &lt;here&gt; *');
		expect(html).toContain('<select id="field-1" name="field-1" multiple>');
	});
});

describe('fieldsFromJson', () => {
	it('takes n8n Form JSON, and says what is wrong with anything else', () => {
		expect(fieldsFromJson(() => [{ fieldLabel: 'Name' }])[0].label).toBe('Name');
		expect(() =>
			fieldsFromJson(() => {
				throw new Error('Unexpected token');
			}),
		).toThrow('Form Fields (JSON) is not a list of form fields: Unexpected token');
		expect(() => fieldsFromJson(() => ({ fieldLabel: 'x' }))).toThrow('must be a list');
	});
});

describe('readAnswers', () => {
	const fields = checkFields([
		{ fieldLabel: 'Name', requiredField: true },
		{ fieldLabel: 'Count', fieldType: 'number' },
		{
			fieldLabel: 'Extras',
			fieldType: 'checkbox',
			fieldOptions: { values: [{ option: 'A' }, { option: 'B' }] },
		},
		{
			fieldLabel: 'Size',
			fieldType: 'radio',
			fieldOptions: { values: [{ option: 'S' }, { option: 'M' }] },
		},
	]);

	it('gives text, numbers and lists by label', () => {
		expect(
			readAnswers(fields, {
				'field-0': ' Jane ',
				'field-1': '3',
				'field-2': ['A', 'B'],
				'field-3': 'M',
			}),
		).toEqual({
			Name: 'Jane',
			Count: 3,
			Extras: ['A', 'B'],
			Size: 'M',
		});
		expect(readAnswers(fields, { 'field-0': 'Jane', 'field-2': 'A' })).toEqual({
			Name: 'Jane',
			Count: null,
			Extras: ['A'],
			Size: '',
		});
	});

	it('refuses a missing required answer, a non-number and an answer that is not an option', () => {
		expect(() => readAnswers(fields, {})).toThrow('"Name" is required');
		expect(() => readAnswers(fields, { 'field-0': 'J', 'field-1': 'three' })).toThrow(
			'must be a number',
		);
		expect(() => readAnswers(fields, { 'field-0': 'J', 'field-2': ['C'] })).toThrow(
			'no option "C"',
		);
		expect(() => readAnswers(fields, { 'field-0': 'J', 'field-3': 'XL' })).toThrow(
			'no option "XL"',
		);
	});
});
