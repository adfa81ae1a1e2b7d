/**
 * The Policy Troubleshooter v3 fake: `POST /v3/iam:troubleshoot` with a JSON access tuple, answered from the
 * world. No installed package ships the Policy Troubleshooter's descriptor, so this is the one route the REST
 * front serves as JSON directly (see rest.ts); its errors use the same envelope. The bot calls it with a Bearer
 * token (as itself); gcloud, with credentials disabled, calls it as the operator.
 */
import { admit, type WireRuntime } from '../world/call-log.ts';
import { type AccessTuple, TroubleshootError, troubleshoot } from '../world/troubleshoot.ts';
import type { World } from '../world/world.ts';
import { parseTemplate } from './http-rule.ts';
import { type JsonRoute, RestError } from './rest.ts';

/** Drops what proto3 JSON never sends: null fields and empty lists (the verdict is built as plain objects). */
function proto3(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(proto3);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === null || v === undefined || (Array.isArray(v) && v.length === 0)) continue;
    out[k] = proto3(v);
  }
  return out;
}

/** The `iam:troubleshoot` route over the world. */
export function troubleshooterRoute(world: World, rt: WireRuntime): JsonRoute {
  return {
    verb: 'POST',
    template: parseTemplate('/v3/iam:troubleshoot'),
    async handle(body, caller) {
      const fault = await admit(rt, 'troubleshooter.troubleshoot');
      if (fault !== undefined) throw new RestError(fault, `Injected failure (HTTP ${fault}).`);
      const parsed = (body ?? {}) as { accessTuple?: Partial<AccessTuple> };
      const tuple: AccessTuple = {
        principal: String(parsed.accessTuple?.principal ?? ''),
        fullResourceName: String(parsed.accessTuple?.fullResourceName ?? ''),
        permission: String(parsed.accessTuple?.permission ?? ''),
      };
      try {
        return proto3(troubleshoot(world, tuple, caller));
      } catch (e) {
        if (e instanceof TroubleshootError) throw new RestError(400, e.message);
        throw e;
      }
    },
  };
}
