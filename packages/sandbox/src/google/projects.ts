/**
 * The Resource Manager v3 Projects fake (`google.cloud.resourcemanager.v3.Projects`): projects by id or number and
 * their IAM policies (version 3, etag read-modify-write).
 */
import type * as grpc from '@grpc/grpc-js';
import type { WireRuntime } from '../world/call-log.ts';
import type { Project } from '../world/types.ts';
import type { World } from '../world/world.ts';
import { notFound, permissionDenied, timestamp, unary } from './grpc.ts';
import {
  type GetIamPolicyRequest,
  getPolicy,
  type SetIamPolicyRequest,
  setPolicy,
  type TestIamPermissionsRequest,
  testPermissions,
} from './iam-wire.ts';

const CRM = '//cloudresourcemanager.googleapis.com/';

function wireProject(p: Project): object {
  return {
    name: `projects/${p.number}`,
    parent: p.parent,
    projectId: p.projectId,
    state: 'ACTIVE',
    displayName: p.displayName,
    createTime: timestamp(p.createTime),
    updateTime: timestamp(p.createTime),
    etag: `W/"${p.number.slice(-6)}"`,
    labels: p.labels,
  };
}

/** Builds the Projects implementation over the world. */
export function projectsService(world: World, rt: WireRuntime): grpc.UntypedServiceImplementation {
  /** The project `name` (`projects/ID` or `projects/NUMBER`) after the bot's `permission` is checked. */
  const project = (name: string, permission: string): Project => {
    const p = world.project(name);
    if (world.botDenied(permission, name) || (p && world.botDenied(permission, `projects/${p.projectId}`))) {
      throw permissionDenied(permission, `${CRM}${name}`);
    }
    if (!p) throw notFound();
    return p;
  };
  return {
    getProject: unary<{ name: string }>(rt, 'resourcemanager.GetProject', (req) =>
      wireProject(project(req.name, 'resourcemanager.projects.get')),
    ),
    getIamPolicy: unary<GetIamPolicyRequest>(rt, 'resourcemanager.GetIamPolicy', (req) =>
      getPolicy(project(req.resource, 'resourcemanager.projects.getIamPolicy').iam, req),
    ),
    setIamPolicy: unary<SetIamPolicyRequest>(rt, 'resourcemanager.SetIamPolicy', (req) => {
      const p = project(req.resource, 'resourcemanager.projects.setIamPolicy');
      return setPolicy(world, p.iam, `projects/${p.projectId}`, req);
    }),
    testIamPermissions: unary<TestIamPermissionsRequest>(rt, 'resourcemanager.TestIamPermissions', (req) => {
      const p = project(req.resource, 'resourcemanager.projects.get');
      return testPermissions(world, { ...req, resource: `projects/${p.projectId}` });
    }),
  };
}
