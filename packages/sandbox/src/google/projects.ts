/**
 * The Resource Manager Projects fakes: v3 (`google.cloud.resourcemanager.v3.Projects`, what the bot calls) and the
 * v1 subset gcloud calls, over one world: projects by id or number and their IAM policies (version 3, etag
 * read-modify-write).
 */
import type * as grpc from '@grpc/grpc-js';
import type { WireRuntime } from '../world/call-log.ts';
import type { Caller, Project } from '../world/types.ts';
import type { World } from '../world/world.ts';
import { notFound, paginate, permissionDenied, timestamp, unary } from './grpc.ts';
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

interface ProjectMethods {
  readonly project: (name: string, permission: string, caller: Caller) => Project;
}

function lookupProject(world: World): ProjectMethods {
  return {
    /** The project `name` (`projects/ID` or `projects/NUMBER`) after the caller's `permission` is checked. */
    project(name, permission, caller) {
      const p = world.project(name);
      if (
        world.denied(caller, permission, name) ||
        (p && world.denied(caller, permission, `projects/${p.projectId}`))
      ) {
        throw permissionDenied(permission, `${CRM}${name}`);
      }
      if (!p) throw notFound();
      return p;
    },
  };
}

/** Builds the v3 Projects implementation over the world. */
export function projectsService(world: World, rt: WireRuntime): grpc.UntypedServiceImplementation {
  const { project } = lookupProject(world);
  return {
    getProject: unary<{ name: string }>(rt, 'resourcemanager.GetProject', (req, caller) =>
      wireProject(project(req.name, 'resourcemanager.projects.get', caller)),
    ),
    getIamPolicy: unary<GetIamPolicyRequest>(rt, 'resourcemanager.GetIamPolicy', (req, caller) =>
      getPolicy(project(req.resource, 'resourcemanager.projects.getIamPolicy', caller).iam, req),
    ),
    setIamPolicy: unary<SetIamPolicyRequest>(rt, 'resourcemanager.SetIamPolicy', (req, caller) => {
      const p = project(req.resource, 'resourcemanager.projects.setIamPolicy', caller);
      return setPolicy(world, p.iam, `projects/${p.projectId}`, req);
    }),
    testIamPermissions: unary<TestIamPermissionsRequest>(rt, 'resourcemanager.TestIamPermissions', (req, caller) => {
      const p = project(req.resource, 'resourcemanager.projects.get', caller);
      return testPermissions(world, { ...req, resource: `projects/${p.projectId}` }, caller);
    }),
  };
}

/** A project in Resource Manager v1's shape (`name` is the display name there; the parent is typed). */
function wireProjectV1(p: Project): object {
  const [type, id] = p.parent.split('/');
  return {
    projectNumber: p.number,
    projectId: p.projectId,
    lifecycleState: 'ACTIVE',
    name: p.displayName,
    createTime: timestamp(p.createTime),
    labels: p.labels,
    parent: { type: type === 'folders' ? 'folder' : 'organization', id },
  };
}

/**
 * The Resource Manager v1 Projects methods gcloud calls (REST only; see crm-v1-descriptor.ts). v1 names a project
 * by bare id (`acme-prod-417`); the answers are v3's, from the same world, under the same call-log names.
 */
export function projectsV1Service(world: World, rt: WireRuntime): grpc.UntypedServiceImplementation {
  const { project } = lookupProject(world);
  const v3 = projectsService(world, rt);
  const delegate =
    (method: string): grpc.handleUnaryCall<{ resource: string }, object> =>
    (call, callback) => {
      const resource = `projects/${call.request.resource}`;
      const inner = v3[method] as grpc.handleUnaryCall<{ resource: string }, object>;
      inner(Object.assign(Object.create(call) as typeof call, { request: { ...call.request, resource } }), callback);
    };
  return {
    getProject: unary<{ projectId: string }>(rt, 'resourcemanager.GetProject', (req, caller) =>
      wireProjectV1(project(`projects/${req.projectId}`, 'resourcemanager.projects.get', caller)),
    ),
    listProjects: unary<{ pageSize: number; pageToken: string }>(rt, 'resourcemanager.ListProjects', (req, caller) => {
      const visible = [...world.projects.values()]
        .filter((p) => !world.denied(caller, 'resourcemanager.projects.get', `projects/${p.projectId}`))
        .sort((a, b) => a.projectId.localeCompare(b.projectId));
      const { page, nextPageToken } = paginate(visible, req.pageSize, req.pageToken);
      return { projects: page.map(wireProjectV1), nextPageToken };
    }),
    getIamPolicy: delegate('getIamPolicy'),
    setIamPolicy: delegate('setIamPolicy'),
    testIamPermissions: delegate('testIamPermissions'),
  };
}
