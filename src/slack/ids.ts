/**
 * Action ids and button values shared by renderers and listeners, so they cannot drift apart. Buttons carry only
 * ids; plans live server-side (docs/incidents-and-fixes.md, "The plan").
 */
export const ACTIONS = {
  grantRestart: 'imagepull_grant_restart',
  restart: 'imagepull_restart',
  recheck: 'imagepull_recheck',
  dismiss: 'imagepull_dismiss',
  undo: 'imagepull_undo',
} as const;

export const COMMAND = '/imagepull';

/** `incidentId` or `incidentId|planId`. */
export function buttonValue(incidentId: string, planId?: string): string {
  return planId ? `${incidentId}|${planId}` : incidentId;
}

export function parseButtonValue(value: string | undefined): { incidentId: string; planId?: string } | undefined {
  if (!value) return undefined;
  const [incidentId, planId] = value.split('|');
  if (!incidentId || !/^[\w-]{1,80}$/.test(incidentId)) return undefined;
  return planId ? { incidentId, planId } : { incidentId };
}
