import type { WorkloadRef } from '../diagnosis/facts.ts';
import type { FixStep, FixStepState, StepId } from '../incidents/model.ts';

/** The step id of a workload's restart: `restart:KIND/NAMESPACE/NAME`. */
export function restartStepId(w: WorkloadRef): StepId {
  return `restart:${w.kind}/${w.namespace}/${w.name}`;
}

export function setStep(steps: readonly FixStep[], id: StepId, state: FixStepState, detail?: string): FixStep[] {
  return steps.map((s) => (s.id === id ? { id, state, ...(detail ? { detail } : {}) } : s));
}

/** The label people read for a step (renderers, the CLI demo); labels may change, ids may not. */
export function stepLabel(id: StepId): string {
  switch (id) {
    case 'recheck':
      return 'Re-read IAM and the cluster';
    case 'grant':
      return 'Grant reader on the repository';
    case 'propagate':
      return 'Wait for IAM to propagate';
    case 'verify':
      return 'Verify the new pods run';
    default: {
      const [kind = '', namespace = '', name = ''] = id.slice('restart:'.length).split('/');
      return `Restart ${kind.toLowerCase()}/${name} -n ${namespace}`;
    }
  }
}
