/**
 * docs/bench.png: the latency distributions and the burst's cumulative items of a bench run,
 * drawn as SVG and rendered to PNG by Debian's Chromium through playwright-core.
 */
import type { BenchResults } from './report';

/** Where Debian's Chromium is (never a downloaded browser). */
const CHROMIUM = '/usr/bin/chromium';
/** Rendering one small SVG page. */
const RENDER_TIMEOUT_MS = 60_000;

/** How the report and the plot name the two triggers. */
export const NAMES = {
	ours: 'AgentMail Trigger (ours)',
	builtin: 'n8n Email Trigger (IMAP)',
} as const;

/** The plot: latency distributions and the burst's cumulative items, as one SVG. */
export function renderSvg(r: BenchResults): string {
	const width = 1200;
	const height = 480;
	const panel = { w: 520, h: 360, top: 60 };
	const colors = { floor: '#888888', ours: '#1f77b4', builtin: '#d62728' };
	const parts: string[] = [];
	const text = (x: number, y: number, value: string, extra = '') =>
		parts.push(
			`<text x="${x}" y="${y}" font-family="sans-serif" font-size="13" ${extra}>${value}</text>`,
		);
	const axes = (x0: number, title: string, xLabel: string, yLabel: string) => {
		parts.push(
			`<rect x="${x0}" y="${panel.top}" width="${panel.w}" height="${panel.h}" fill="none" stroke="#333"/>`,
		);
		text(x0, panel.top - 20, title, 'font-weight="bold" font-size="15"');
		text(x0 + panel.w / 2 - 60, panel.top + panel.h + 40, xLabel);
		text(
			x0 - 50,
			panel.top + panel.h / 2,
			yLabel,
			`transform="rotate(-90 ${x0 - 50} ${panel.top + panel.h / 2})"`,
		);
	};
	const legend = (x: number, y: number, entries: Array<[string, string]>) =>
		entries.forEach(([label, color], i) => {
			parts.push(
				`<line x1="${x}" y1="${y + i * 18}" x2="${x + 24}" y2="${y + i * 18}" stroke="${color}" stroke-width="3"/>`,
			);
			text(x + 30, y + i * 18 + 4, label);
		});

	// Left: cumulative share of messages by latency.
	const left = 80;
	axes(left, 'Delivery → run start, single messages', 'milliseconds', 'share of messages');
	const series: Array<[string, number[], string]> = [];
	const ours = r.latency?.find((side) => side.side === 'ours');
	const builtin = r.latency?.find((side) => side.side === 'builtin');
	if (ours) series.push(['IDLE floor', [...ours.floor, ...(builtin?.floor ?? [])], colors.floor]);
	if (ours) series.push([NAMES.ours, ours.run, colors.ours]);
	if (builtin) series.push([NAMES.builtin, builtin.run, colors.builtin]);
	const all = series.flatMap(([, values]) => values).sort((a, b) => a - b);
	const lo = Math.floor((all[0] ?? 480) / 10) * 10;
	const hi = Math.ceil((all[Math.floor(all.length * 0.99)] ?? 600) / 10) * 10 + 10;
	const lx = (v: number) => left + ((Math.min(Math.max(v, lo), hi) - lo) / (hi - lo)) * panel.w;
	const ly = (share: number) => panel.top + panel.h - share * panel.h;
	for (let tick = 0; tick <= 4; tick++) {
		const v = lo + ((hi - lo) * tick) / 4;
		text(lx(v) - 12, panel.top + panel.h + 18, String(Math.round(v)));
		text(left - 34, ly(tick / 4) + 4, `${tick * 25}%`);
	}
	for (const [, values, color] of series) {
		const sorted = [...values].sort((a, b) => a - b);
		const points = sorted.map(
			(v, i) => `${lx(v).toFixed(1)},${ly((i + 1) / sorted.length).toFixed(1)}`,
		);
		parts.push(
			`<polyline fill="none" stroke="${color}" stroke-width="2.5" points="${points.join(' ')}"/>`,
		);
	}
	legend(
		left + 230,
		panel.top + panel.h - 60,
		series.map(([label, , color]) => [label, color]),
	);

	// Right: cumulative items by run start in the batched burst.
	const right = 680;
	axes(right, 'Burst: items started, 20 per run', 'seconds after the first delivery', 'messages');
	const bursts = r.burst ?? [];
	const maxT = Math.max(
		1,
		...bursts.flatMap((side) => side.timeline.map(([t]) => t)),
		...bursts.map((side) => side.deliveryMs),
	);
	const maxN = Math.max(1, ...bursts.map((side) => side.messages));
	const rx = (t: number) => right + (t / maxT) * panel.w;
	const ry = (n: number) => panel.top + panel.h - (n / maxN) * panel.h;
	for (let tick = 0; tick <= 4; tick++) {
		text(
			rx((maxT * tick) / 4) - 8,
			panel.top + panel.h + 18,
			((maxT * tick) / 4 / 1000).toFixed(1),
		);
		text(right - 44, ry((maxN * tick) / 4) + 4, String(Math.round((maxN * tick) / 4)));
	}
	for (const side of bursts) {
		const color = colors[side.side];
		const points = [
			`${rx(0)},${ry(0)}`,
			...side.timeline.map(([t, n]) => `${rx(t).toFixed(1)},${ry(n).toFixed(1)}`),
		];
		parts.push(
			`<polyline fill="none" stroke="${color}" stroke-width="2.5" points="${points.join(' ')}"/>`,
		);
		parts.push(
			`<line x1="${rx(side.deliveryMs)}" y1="${panel.top}" x2="${rx(side.deliveryMs)}" y2="${panel.top + panel.h}" stroke="${color}" stroke-dasharray="4 4"/>`,
		);
	}
	legend(right + 230, panel.top + panel.h - 60, [
		...bursts.map((side): [string, string] => [NAMES[side.side], colors[side.side]]),
		['dashed: last delivery', '#333'],
	]);
	return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}"><rect width="100%" height="100%" fill="white"/>${parts.join('')}</svg>`;
}

/** Renders the SVG to PNG in Debian's Chromium. */
export async function renderPng(svg: string, file: string): Promise<void> {
	const { chromium } = await import('playwright-core');
	const browser = await chromium.launch({
		executablePath: CHROMIUM,
		args: [
			'--no-sandbox',
			'--disable-gpu',
			'--disable-background-networking',
			'--disable-component-update',
			'--disable-sync',
		],
		timeout: RENDER_TIMEOUT_MS,
	});
	try {
		const page = await browser.newPage({ viewport: { width: 1200, height: 480 } });
		await page.setContent(`<html><body style="margin:0">${svg}</body></html>`);
		await page.screenshot({ path: file, clip: { x: 0, y: 0, width: 1200, height: 480 } });
	} finally {
		await browser.close();
	}
}
