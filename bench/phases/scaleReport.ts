/** The scale phase's part of BENCHMARKS.md: its tables, and its rows of the targets table. */
import type { LatencyStats, ScaleSizes, ScaleStep } from './scale';
import type { Moments, ScaleTimeline } from './scaleTimeline';

const SIDE_NAMES = {
	ours: 'AgentMail Trigger (ours)',
	builtin: 'n8n Email Trigger (IMAP)',
	baseline: 'do-nothing trigger (n8n alone per active workflow, the floor)',
};

/** Whatever is missing shows as a dash, never as 0. */
function value(number: number | null | undefined, unit = ''): string {
	return number === null || number === undefined || Number.isNaN(number) ? '–' : `${number}${unit}`;
}

function latency(stats: LatencyStats | undefined): string {
	if (!stats) return '–';
	return `${value(stats.p50)} / ${value(stats.p95)} / ${value(stats.max)} ms`;
}

function counted(stats: Array<LatencyStats | undefined>): { lost: number; duplicates: number } {
	const present = stats.filter((entry): entry is LatencyStats => entry !== undefined);
	return {
		lost: present.reduce((sum, entry) => sum + entry.lost, 0),
		duplicates: present.reduce((sum, entry) => sum + entry.duplicates, 0),
	};
}

/** n8n's memory above n8n alone, per trigger (MB), and its idle CPU per trigger (% of a core). */
function perTrigger(step: ScaleStep, alone: ScaleStep): { mb: number; cpuPercent: number } {
	return {
		mb: Math.round((100 * (step.rssMb - alone.rssMb)) / step.triggers) / 100,
		// ms of CPU per s of the window: 10 ms/s is 1% of a core.
		cpuPercent:
			Math.round((1000 * (step.idleCpuMsPerS - alone.idleCpuMsPerS)) / step.triggers / 10) / 1000,
	};
}

/** Writes the section; returns the target rows (target, measured, met). */
export function renderScale(
	scale: { sizes: ScaleSizes; steps: ScaleStep[] },
	line: (text?: string) => void,
): Array<[string, string, boolean]> {
	const { sizes, steps } = scale;
	const alone = steps.find((step) => step.side === 'none');
	const sides = steps.filter((step) => step.side !== 'none' && step.side !== 'baseline');
	const floor = steps.find((step) => step.side === 'baseline');
	if (!alone || sides.length === 0) return [];
	const max = Math.max(...sizes.counts);
	line('### Many inboxes: 1 to 200 triggers in one n8n');
	line();
	line(
		`Each trigger watches an inbox of its own; ours all share one AgentMail credential (Inbox Address set per workflow), n8n's has one IMAP credential per inbox. Each side and count in a freshly started n8n with only those triggers active. Memory: n8n's RSS once it stopped falling; CPU: n8n's over an idle window of ${sizes.idleS} s at ${max} triggers and for n8n alone, ${sizes.shortIdleS} s at the other counts. n8n alone: ${alone.rssMb} MB, ${alone.idleCpuMsPerS} ms of CPU per second (machine ${alone.machineBusyPercent}% busy).`,
	);
	line();
	line(
		'| side | triggers | n8n start → all connected (→ n8n ready) | logins per trigger | RSS | RSS over n8n alone, per trigger | idle CPU | per trigger, % of a core | machine busy |',
	);
	line('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
	for (const step of floor ? [floor, ...sides] : sides) {
		const each = perTrigger(step, alone);
		line(
			`| ${SIDE_NAMES[step.side as keyof typeof SIDE_NAMES]} | ${step.triggers} | ${value(step.startMs, ' ms')} (${value(step.readyMs, ' ms')}) | ${value(step.logins === undefined ? undefined : Math.round((100 * step.logins) / step.triggers) / 100)} | ${step.rssMb} MB | ${each.mb} MB | ${step.idleCpuMsPerS} ms/s | ${each.cpuPercent}% | ${step.machineBusyPercent}% |`,
		);
	}
	line();
	line(
		`Delivery (LMTP stored it) → run start, p50 / p95 / max (Dovecot tells an idling client of new mail about 500 ms after it is stored, so no trigger gets below that here; the latency phase above measures against an IDLE floor): ${sizes.singles} messages one at a time, each to the next inbox while the others idle; and ${sizes.atOnceRounds} messages each delivered to 20 inboxes at once (one LMTP transaction), where there are 20.`,
	);
	line();
	line('| side | triggers | one inbox at a time | 20 inboxes at once | lost | duplicates |');
	line('|---|---:|---:|---:|---:|---:|');
	for (const step of sides) {
		const { lost, duplicates } = counted([step.single, step.atOnce]);
		line(
			`| ${SIDE_NAMES[step.side as keyof typeof SIDE_NAMES]} | ${step.triggers} | ${latency(step.single)} | ${latency(step.atOnce)} | ${lost} | ${duplicates} |`,
		);
	}
	line();
	const outages = sides.filter((step) => step.outage);
	if (outages.length) {
		line(
			`At ${max} triggers Dovecot is SIGKILLed; for 5 s a stand-in on its port accepts and closes every connection (counting the attempts), while one message per inbox goes into the maildirs; then Dovecot starts again. "All back": Dovecot accepting → every trigger holding a session again. "Waiting mail": Dovecot accepting → run start.`,
		);
		line();
		line(
			'| side | attempts per second (each second of the outage) | per trigger per second, peak | all back | waiting mail p50 / p95 / max | lost | duplicates |',
		);
		line('|---|---|---:|---:|---:|---:|---:|');
		for (const step of outages) {
			const outage = step.outage!;
			const peak = Math.max(0, ...outage.attemptsPerSecond);
			line(
				`| ${SIDE_NAMES[step.side as keyof typeof SIDE_NAMES]} | ${outage.attemptsPerSecond.join(', ')} | ${Math.round((100 * peak) / step.triggers) / 100} | ${value(outage.allBackMs, ' ms')} | ${latency(outage.waiting)} | ${outage.waiting.lost} | ${outage.waiting.duplicates} |`,
			);
		}
		line();
	}
	const ours = sides.filter((step) => step.side === 'ours');
	const oursMax = ours.find((step) => step.triggers === max);
	const oursOne = ours.find((step) => step.triggers === 1);
	const rows: Array<[string, string, boolean]> = [];
	if (oursMax) {
		const each = perTrigger(oursMax, alone);
		rows.push([
			`Scale: ≤ 1 MB of n8n memory per idle trigger (at ${max})`,
			`${each.mb} MB`,
			each.mb <= 1,
		]);
		rows.push([
			`Scale: idle CPU per trigger ≤ 0.01% of a core (at ${max})`,
			`${each.cpuPercent}%`,
			each.cpuPercent <= 0.01,
		]);
		if (oursOne?.single && oursMax.single) {
			const gap = oursMax.single.p50 - oursOne.single.p50;
			rows.push([
				`Scale: latency p50 at ${max} within 5 ms of latency at 1`,
				`${oursMax.single.p50} vs ${oursOne.single.p50} ms (${gap > 0 ? '+' : ''}${gap})`,
				gap <= 5,
			]);
		}
		if (oursMax.outage) {
			const back = oursMax.outage.allBackMs;
			rows.push([
				`Scale: all ${max} idling again within 15 s of the server's return`,
				value(back, ' ms'),
				back !== null && back <= 15_000,
			]);
		}
	}
	const total = counted(ours.flatMap((step) => [step.single, step.atOnce, step.outage?.waiting]));
	rows.push([
		'Scale: 0 lost, 0 duplicates (ours, every step)',
		`${total.lost} lost, ${total.duplicates} duplicates`,
		total.lost === 0 && total.duplicates === 0,
	]);
	return rows;
}

function moments(m: Moments): string {
	if (m.count === 0) return '–';
	return `${value(m.first)} / ${value(m.p50)} / ${value(m.last)} ms`;
}

/** Writes the timeline's section: n8n's start and the outage at the largest count. */
export function renderScaleTimeline(timeline: ScaleTimeline, line: (text?: string) => void): void {
	const { triggers, starts, outages } = timeline;
	const name = (side: keyof typeof SIDE_NAMES) =>
		side === 'baseline' ? 'do-nothing trigger (the floor)' : SIDE_NAMES[side];
	line(`### Many inboxes: where the time goes at ${triggers} triggers`);
	line();
	line(
		`\`--only=scale-timeline\`. n8n started with ${triggers} workflows of one kind active, then for ours and n8n's the outage above again. n8n's log and Dovecot's are read every 20 ms and each line is stamped when read; n8n's CPU (its JavaScript thread, and the whole process) every 100 ms. Moments are first / median / last.`,
	);
	line();
	line(
		"n8n's start with all of them active: when it answered its readiness probe, and when each trigger was up (the floor's: n8n called its trigger function and it read its credential, as the mail triggers do before connecting; ours and n8n's: Dovecot logged its inbox's login). n8n 2.40 starts active workflows in the background, a few at a time (N8N_WORKFLOW_PUBLICATION_CONCURRENCY, default 5).",
	);
	line();
	line(
		'| side | n8n start → ready | → each trigger up | per trigger | JS thread busy meanwhile | → first IMAP connection | → all connected |',
	);
	line('|---|---:|---:|---:|---:|---:|---:|');
	for (const start of starts) {
		line(
			`| ${name(start.side)} | ${start.readyMs} ms | ${moments(start.up)} (${start.up.count}) | ${value(start.perTriggerMs, ' ms')} | ${value(start.threadBusyPercent, '%')} | ${value(start.firstConnectionMs, ' ms')} | ${value(start.connectedMs, ' ms')} |`,
		);
	}
	line();
	if (outages.length === 0) return;
	line(
		"The outage, ms after Dovecot accepted connections again: its IMAP logins, our trigger's \"connection restored\" lines (n8n's writes none), and the waiting messages' runs as n8n created them (it had the trigger's emit) and started them; n8n's JavaScript thread's CPU from Dovecot's return to the last run start, per trigger. The floor row is n8n alone: as many do-nothing triggers each emit one mail-sized item at the same moment (ms after that moment).",
	);
	line();
	line(
		'| side | all connected | logins | sessions restored | runs created | runs started | lost / duplicates | JS thread CPU per trigger |',
	);
	line('|---|---:|---:|---:|---:|---:|---:|---:|');
	for (const outage of outages) {
		line(
			`| ${name(outage.side)} | ${value(outage.allBackMs, ' ms')} | ${moments(outage.logins)} | ${moments(outage.restored)} | ${moments(outage.created)} | ${moments(outage.started)} | ${outage.lost} / ${outage.duplicates} | ${value(outage.threadMsPerTrigger, ' ms')} |`,
		);
	}
	line();
	line(
		"Each 500 ms after Dovecot's return, % of one core: n8n's JavaScript thread / n8n's whole process / the rest of the machine (Dovecot, the bench).",
	);
	line();
	line(`| from | ${outages.map((outage) => name(outage.side)).join(' | ')} |`);
	line(`|---:|${outages.map(() => '---:|').join('')}`);
	const slices = Math.max(...outages.map((outage) => outage.slices.length));
	for (let i = 0; i < slices; i++) {
		const cells = outages.map((outage) => {
			const slice = outage.slices[i];
			return slice ? `${slice.thread} / ${slice.process} / ${slice.rest}` : '';
		});
		line(`| ${(i * 0.5).toFixed(1)} s | ${cells.join(' | ')} |`);
	}
	line();
}
