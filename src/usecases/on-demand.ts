import type { ClusterRef, WorkloadRef } from '../diagnosis/facts.ts';
import type { IncidentRecord } from '../incidents/model.ts';
import type { IncidentService } from './incidents.ts';
import type { Investigation, Investigator } from './investigate.ts';

export interface DiagnoseRequest {
  readonly cluster?: ClusterRef;
  readonly namespace?: string;
  readonly pod?: string;
  readonly workload?: WorkloadRef;
  readonly image?: string;
  readonly share: boolean;
}

export type OnDemandResult =
  | { readonly kind: 'diagnosed'; readonly investigation: Investigation; readonly shared: readonly IncidentRecord[] }
  | { readonly kind: 'error'; readonly error: string };

/** `/imagepull diagnose`: the same investigation as for alerts, on demand; `--share` makes it an incident. */
export class OnDemandDiagnosis {
  readonly #investigator: Investigator;
  readonly #incidents: IncidentService;
  readonly #defaultCluster?: ClusterRef;

  constructor(investigator: Investigator, incidents: IncidentService, defaultCluster?: ClusterRef) {
    this.#investigator = investigator;
    this.#incidents = incidents;
    if (defaultCluster) this.#defaultCluster = defaultCluster;
  }

  async diagnose(req: DiagnoseRequest, user: string, channel: string): Promise<OnDemandResult> {
    const cluster = req.cluster ?? this.#defaultCluster;
    if (!cluster) {
      return {
        kind: 'error',
        error: 'Which cluster? Add `--cluster PROJECT/LOCATION/CLUSTER` (or set DEFAULT_CLUSTER for the bot).',
      };
    }
    const investigation = await this.#investigator.investigate(
      {
        cluster,
        ...(req.namespace ? { namespace: req.namespace } : {}),
        ...(req.pod ? { pod: req.pod } : {}),
        ...(req.workload ? { workload: req.workload } : {}),
        ...(req.image ? { image: req.image } : {}),
      },
      { fresh: true },
    );
    const shared: IncidentRecord[] = [];
    if (req.share) {
      for (const d of investigation.diagnoses) {
        const s = d.subject;
        shared.push(
          await this.#incidents.record(
            d,
            {
              cluster,
              namespace: s.namespace ?? req.namespace ?? '',
              ...(s.pod ? { pod: s.pod } : {}),
              ...(s.workload ? { workload: s.workload } : {}),
              alerts: 0,
            },
            { kind: 'command', user, channel },
          ),
        );
      }
    }
    return { kind: 'diagnosed', investigation, shared };
  }
}
