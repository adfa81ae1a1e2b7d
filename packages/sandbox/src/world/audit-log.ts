/**
 * The Cloud Audit Logs entry Google writes for a `SetIamPolicy` on a repository or a project of the world, as a
 * logging sink exports it to Pub/Sub: an Admin Activity LogEntry whose `protoPayload` is a
 * `google.cloud.audit.AuditLog` with the change in `serviceData.policyDelta.bindingDeltas` and the policy as written
 * in `response`. Built from the world's current policy, so publish it after making the change (`removeBinding`).
 */
import { createHash } from 'node:crypto';
import { readPolicy } from './iam.ts';
import type { World } from './world.ts';

/** One binding change, as `google.iam.v1.BindingDelta` logs it. */
export interface BindingDelta {
  readonly action: 'ADD' | 'REMOVE';
  readonly role: string;
  readonly member: string;
}

/** What changed, by whom and when. */
export interface SetIamPolicyEntryOptions {
  /** `projects/P/locations/L/repositories/R` or `projects/P`. */
  readonly resource: string;
  readonly deltas: readonly BindingDelta[];
  /** Who made the change (default a person of the platform team). */
  readonly principal?: string;
  /** When (default now). */
  readonly at?: number;
}

/** The audit LogEntry for one `SetIamPolicy` call that succeeded. */
export function setIamPolicyEntry(world: World, opts: SetIamPolicyEntryOptions): Record<string, unknown> {
  const at = opts.at ?? world.now();
  const repository = opts.resource.includes('/repositories/');
  const project = /^projects\/([^/]+)/.exec(opts.resource)?.[1] ?? '';
  const state = repository ? world.repository(opts.resource)?.iam : world.project(project)?.iam;
  if (!state) throw new Error(`no repository or project named ${opts.resource} in the sandbox`);
  const policy = readPolicy(state, 3);
  const etag = policy.etag.toString('base64');
  const service = repository ? 'artifactregistry.googleapis.com' : 'cloudresourcemanager.googleapis.com';
  const method = repository ? 'google.devtools.artifactregistry.v1.ArtifactRegistry.SetIamPolicy' : 'SetIamPolicy';
  const time = new Date(at).toISOString();
  const bindings = policy.bindings.map((b) => ({
    role: b.role,
    members: b.members,
    ...(b.condition ? { condition: b.condition } : {}),
  }));
  return {
    protoPayload: {
      '@type': 'type.googleapis.com/google.cloud.audit.AuditLog',
      status: {},
      authenticationInfo: { principalEmail: opts.principal ?? 'jordan.lee@acme.example' },
      requestMetadata: {
        callerIp: '203.0.113.24',
        callerSuppliedUserAgent:
          'google-cloud-sdk gcloud/512.0.0 command/gcloud.artifacts.repositories.remove-iam-policy-binding',
        requestAttributes: { time, auth: {} },
        destinationAttributes: {},
      },
      serviceName: service,
      methodName: method,
      authorizationInfo: [
        {
          resource: opts.resource,
          permission: repository
            ? 'artifactregistry.repositories.setIamPolicy'
            : 'resourcemanager.projects.setIamPolicy',
          granted: true,
          resourceAttributes: {},
          permissionType: 'ADMIN_WRITE',
        },
      ],
      resourceName: opts.resource,
      serviceData: {
        '@type': 'type.googleapis.com/google.iam.v1.logging.AuditData',
        policyDelta: { bindingDeltas: opts.deltas.map((d) => ({ ...d })) },
      },
      request: {
        '@type': 'type.googleapis.com/google.iam.v1.SetIamPolicyRequest',
        resource: repository ? opts.resource : project,
        policy: { bindings, etag },
      },
      response: { '@type': 'type.googleapis.com/google.iam.v1.Policy', version: policy.version, bindings, etag },
    },
    insertId: createHash('sha256').update(`${opts.resource}|${at}|${state.writes}`).digest('hex').slice(0, 12),
    resource: repository
      ? { type: 'audited_resource', labels: { service, method, project_id: project } }
      : { type: 'project', labels: { project_id: project } },
    timestamp: time,
    severity: 'NOTICE',
    logName: `projects/${project}/logs/cloudaudit.googleapis.com%2Factivity`,
    receiveTimestamp: new Date(at + 700).toISOString(),
  };
}
