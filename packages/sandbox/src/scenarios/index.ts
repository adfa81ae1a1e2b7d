/**
 * The scenario registry: names, one-line descriptions and targets, and a fresh world for any of them.
 */
import type { World } from '../world/world.ts';
import { SCENARIO_DEFINITIONS, type ScenarioInfo } from './catalog.ts';

export type { ScenarioInfo } from './catalog.ts';

/** Every scenario's name, description, target and intent (no worlds built). */
export const SCENARIOS: readonly ScenarioInfo[] = SCENARIO_DEFINITIONS.map(({ build: _build, ...info }) => info);

/** Thrown for a scenario name that does not exist; the message lists the valid ones. */
export class UnknownScenarioError extends Error {
  readonly code = 'unknown-scenario';
}

/** Builds a fresh world for `name` (its present is now). */
export function buildScenario(name: string): { world: World; info: ScenarioInfo } {
  const def = SCENARIO_DEFINITIONS.find((s) => s.name === name);
  if (!def) {
    throw new UnknownScenarioError(
      `unknown scenario "${name}"; known: ${SCENARIO_DEFINITIONS.map((s) => s.name).join(', ')}`,
    );
  }
  const { build, ...info } = def;
  return { world: build(), info };
}
