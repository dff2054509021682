/**
 * The prologue and epilogue most drills share: both sides' workflows rigged, a warm-up message
 * each, the logs marked where the fault begins; then the drill's own fault and count; the
 * workflows deactivated whatever happened.
 */
import type { Side } from '../lab/workflows';
import {
	faultBegins,
	rig,
	unrig,
	warmUp,
	type Drill,
	type DrillContext,
	type DrillOutcome,
	type RigOptions,
	type Rigs,
} from './drill';
import type { LogWindow } from './logs';

export interface Stage {
	rigs: Rigs;
	/** The warm-up messages each side should have put out (none with `warmUp: false`). */
	warm: Record<Side, string[]>;
	/** n8n's log from the moment the fault begins. */
	logs: LogWindow;
}

/** Runs `fault` between the shared prologue and epilogue; `warmUp: false` skips the warm-up. */
export async function staged(
	context: DrillContext,
	drill: Pick<Drill, 'id' | 'title'>,
	options: RigOptions & { warmUp?: boolean },
	fault: (stage: Stage) => Promise<DrillOutcome>,
): Promise<DrillOutcome> {
	const { warmUp: warm = true, ...rigOptions } = options;
	const rigs = await rig(context, drill.title, rigOptions);
	try {
		const warmed = warm ? await warmUp(context, rigs, drill.id) : { ours: [], builtin: [] };
		const logs = faultBegins(context.lab, rigs);
		return await fault({ rigs, warm: warmed, logs });
	} finally {
		await unrig(context, rigs);
	}
}
