/** The shape of a scenario (scenarios/catalog.ts lists them; scenarios/latent.ts adds the latent ones). */
import type { World } from '../world/world.ts';

/** The failing thing a scenario is about. */
export interface ScenarioTarget {
  readonly project: string;
  readonly location: string;
  readonly cluster: string;
  readonly namespace: string;
  /** One failing pod. */
  readonly pod: string;
  /** Its failing container. */
  readonly container: string;
  readonly workload: { readonly kind: 'Deployment' | 'StatefulSet' | 'DaemonSet'; readonly name: string };
  /** The image that does not pull. */
  readonly image: string;
}

/** What would fail in a latent scenario: a workload's image that a new node of `pool` could not pull. */
export interface LatentRisk {
  readonly workload: { readonly kind: string; readonly namespace: string; readonly name: string };
  readonly image: string;
  readonly pool: string;
}

/** A scenario's name, one-line description and target; `expected` states the author's intent (the cause and finding ids of docs/diagnosis.md). */
export interface ScenarioInfo {
  readonly name: string;
  readonly description: string;
  readonly target: ScenarioTarget;
  readonly expected: { readonly cause: string; readonly findings: readonly string[] };
  /**
   * Set when nothing fails yet (scenarios/latent.ts): `target` is a pod that runs today (`expected` has no finding),
   * and this names what would fail on a new node.
   */
  readonly latent?: LatentRisk;
}

/** A scenario with the function that builds its world. */
export interface ScenarioDefinition extends ScenarioInfo {
  /** Builds a fresh world for this scenario, its present being "now". */
  readonly build: () => World;
}
