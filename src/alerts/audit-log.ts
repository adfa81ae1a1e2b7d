import { roleCanPull } from '../diagnosis/roles.ts';
import type { Alert, IamChange } from './alert.ts';
import { compact, ignored, type Json, obj, str, toRfc3339 } from './fields.ts';

/**
 * Cloud Audit Logs entries for `SetIamPolicy` on Artifact Registry repositories and on projects (docs/alerts.md,
 * "IAM changes"), exported by a logging sink into the alert topic: each becomes an `iam-change`, after which the
 * pull audit re-checks the pools and images that depend on the changed policy. Pure; never throws.
 *
 * The entry is a LogEntry whose `protoPayload` is a `google.cloud.audit.AuditLog`: `serviceName`
 * (`artifactregistry.googleapis.com` or `cloudresourcemanager.googleapis.com`), `methodName`
 * (`google.devtools.artifactregistry.v1.ArtifactRegistry.SetIamPolicy`, `SetIamPolicy`), `resourceName`
 * (`projects/P/locations/L/repositories/R`, `projects/P`), `status` (a failed call changed nothing), and the change
 * itself in `serviceData.policyDelta.bindingDeltas` (`{action, role, member}`, `google.iam.v1.logging.AuditData`).
 */

const SERVICES = new Set(['artifactregistry.googleapis.com', 'cloudresourcemanager.googleapis.com']);
const AUDIT_LOG = /\/logs\/cloudaudit\.googleapis\.com%2F(activity|data_access|system_event)$/;
const REPOSITORY = /^projects\/[^/]+\/locations\/[^/]+\/repositories\/[^/]+$/;
const PROJECT = /^projects\/[^/]+$/;

/** True for a LogEntry carrying an audit log (what `parseAuditLogEntry` reads). */
export function isAuditLogEntry(entry: Json): boolean {
  return obj(entry.protoPayload) !== undefined && AUDIT_LOG.test(str(entry.logName) ?? '');
}

/** An audit-log LogEntry → an `iam-change`, or `ignored` with the reason. */
export function parseAuditLogEntry(entry: Json): Alert {
  const payload = obj(entry.protoPayload) ?? {};
  const service = str(payload.serviceName);
  const method = str(payload.methodName) ?? '';
  if (!/(^|\.)SetIamPolicy$/.test(method))
    return ignored(`audit log entry for ${method || 'an unknown method'}, not SetIamPolicy`);
  if (!service || !SERVICES.has(service)) {
    return ignored(
      `SetIamPolicy on ${service ?? 'an unknown service'}: only Artifact Registry and project policies matter for pulls`,
    );
  }
  const code = Number(obj(payload.status)?.code ?? 0);
  if (Number.isFinite(code) && code !== 0) return ignored(`SetIamPolicy failed (status ${code}): nothing changed`);
  // Some services write the full resource name (`//SERVICE/…`); the bot names resources without the host.
  const resource = (str(payload.resourceName) ?? '').replace(/^\/\/[^/]+\//, '');
  const scope = REPOSITORY.test(resource) ? 'repository' : PROJECT.test(resource) ? 'project' : undefined;
  if (!scope) return ignored(`SetIamPolicy on ${resource || 'an unnamed resource'}: not a repository or a project`);
  const deltas = bindingDeltas(payload);
  if (deltas.length > 0 && !deltas.some((d) => roleCanPull(d.role))) {
    return ignored(`SetIamPolicy on ${resource} changed no role that can pull images`);
  }
  const principal = str(obj(payload.authenticationInfo)?.principalEmail);
  const iamChange: IamChange = { resource, scope, method, ...(principal ? { principal } : {}), deltas };
  const insertId = str(entry.insertId);
  return compact({
    kind: 'iam-change',
    state: 'open',
    project: str(obj(obj(entry.resource)?.labels)?.project_id),
    iamChange,
    dedupeKey: insertId ? `log:${insertId}` : undefined,
    observedAt: toRfc3339(entry.timestamp) ?? toRfc3339(entry.receiveTimestamp),
  });
}

/** `policyDelta.bindingDeltas` from `serviceData` (the documented place) or `metadata` (where some services put it). */
function bindingDeltas(payload: Json): IamChange['deltas'] {
  const delta = obj(obj(payload.serviceData)?.policyDelta) ?? obj(obj(payload.metadata)?.policyDelta);
  const list = Array.isArray(delta?.bindingDeltas) ? delta.bindingDeltas : [];
  return list.flatMap((d) => {
    const o = obj(d);
    const action = str(o?.action);
    const role = str(o?.role);
    const member = str(o?.member);
    return (action === 'ADD' || action === 'REMOVE') && role && member ? [{ action, role, member }] : [];
  });
}
