import type { FixKind } from '../diagnosis/diagnosis.ts';
import type { FixAction, FixStep, PlanRecord, StepId } from '../incidents/model.ts';
import type { Fix } from './fix.ts';
import { grantRepoReaderFix } from './grant-repo-reader.fix.ts';
import { restartWorkloadFix } from './restart-workload.fix.ts';

/**
 * The registry of fixes, in the order a run applies them (docs/incidents-and-fixes.md, "Fixes"): access first, then
 * the restart that makes pods pull again. The twin of `diagnosis/checks/index.ts`.
 */
export const FIXES: readonly Fix[] = [grantRepoReaderFix, restartWorkloadFix];

/** The fix of a kind (every kind a diagnosis can plan has one: a unit test keeps them in step). */
export function fixOf(kind: FixKind): Fix | undefined {
  return FIXES.find((f) => f.kind === kind);
}

/** The step ids a run of `plan` goes through for `action`: re-read, then each applicable fix's own, in order. */
export function stepsFor(plan: PlanRecord, action: FixAction): FixStep[] {
  const ids: StepId[] = ['recheck'];
  for (const fix of FIXES) if (fix.appliesTo(plan, action)) ids.push(...fix.steps(plan));
  return ids.map((id) => ({ id, state: 'pending' }));
}

/** What a run would do by hand: the dry run shows it. */
export function commandsFor(plan: PlanRecord, action: FixAction): string[] {
  return FIXES.filter((f) => f.appliesTo(plan, action)).flatMap((f) => f.commands(plan));
}
