import type { Logger } from '../../shared/logger.ts';
import type { FixService } from '../../usecases/fixes.ts';
import type { OnDemandDiagnosis } from '../../usecases/on-demand.ts';
import type { StatusModel } from '../blocks/home.blocks.ts';

/** What the listeners may call: use cases only, never adapters (STYLE.md). */
export interface ListenerDeps {
  readonly fixes: FixService;
  readonly onDemand: OnDemandDiagnosis;
  readonly status: () => Promise<StatusModel>;
  readonly logger: Logger;
}
