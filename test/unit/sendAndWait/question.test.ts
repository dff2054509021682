import { LINK_NOTE, questionBody } from '../../../nodes/shared/sendAndWait/question';

it('the question mail: the message, one link per answer, in text and HTML, nothing interpreted', () => {
	const body = questionBody('Refund <b>1042</b>?\nIt is EUR 120.', [
		{
			label: 'Approve',
			url: 'https://n8n.example/webhook-waiting/7/node?approved=true&signature=abc',
			primary: true,
		},
		{
			label: 'Decline',
			url: 'https://n8n.example/webhook-waiting/7/node?approved=false&signature=def',
			primary: false,
		},
	]);
	expect(body.text).toBe(
		[
			'Refund <b>1042</b>?\nIt is EUR 120.',
			'',
			'Approve: https://n8n.example/webhook-waiting/7/node?approved=true&signature=abc',
			'Decline: https://n8n.example/webhook-waiting/7/node?approved=false&signature=def',
			'',
			LINK_NOTE,
			'',
		].join('\n'),
	);
	expect(body.html).toContain('Refund &lt;b&gt;1042&lt;/b&gt;?<br>It is EUR 120.');
	expect(body.html).toContain(
		'href="https://n8n.example/webhook-waiting/7/node?approved=true&amp;signature=abc"',
	);
	expect(body.html).toContain('>Decline</a>');
});
