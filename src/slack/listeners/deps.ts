import type { Logger } from '../../shared/logger.ts';
import type { IncidentActions } from '../../usecases/incident-actions.ts';
import type { OnDemandDiagnosis } from '../../usecases/on-demand.ts';
import type { PreventionService } from '../../usecases/prevention.ts';
import type { StatusModel } from '../blocks/home.blocks.ts';

/** What the listeners may call: use cases only, never adapters (STYLE.md). */
export interface ListenerDeps {
  readonly actions: IncidentActions;
  readonly onDemand: OnDemandDiagnosis;
  /** `/imagepull audit`. */
  readonly prevention: PreventionService;
  readonly status: () => Promise<StatusModel>;
  readonly logger: Logger;
}
