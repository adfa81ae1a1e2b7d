/**
 * Resource Manager v1's REST surface as a descriptor. gcloud's `projects describe` and `projects get-iam-policy`
 * call v1 (`GET /v1/projects/{projectId}`, `POST /v1/projects/{resource}:getIamPolicy`), and v1 has no proto in
 * any installed package (only v3 does), so the subset the sandbox serves is declared here in protobuf.js's JSON
 * form, with v1's documented field names and types. It is merged into the Resource Manager descriptor, so the IAM
 * messages are v3's very own `google.iam.v1` ones. Field numbers are the sandbox's: nothing speaks v1 over gRPC.
 */
import type { JsonNode } from './descriptors.ts';

const http = (verb: string, path: string, body?: string): Record<string, unknown> => ({
  [`(google.api.http).${verb}`]: path,
  ...(body ? { '(google.api.http).body': body } : {}),
});

const str = (id: number) => ({ type: 'string', id });

/** `google.cloudresourcemanager.v1`: the Projects methods gcloud uses, and the v1 `Project`. */
export const CRM_V1_DESCRIPTOR: JsonNode = {
  nested: {
    google: {
      nested: {
        cloudresourcemanager: {
          nested: {
            v1: {
              nested: {
                Projects: {
                  methods: {
                    GetProject: {
                      requestType: 'GetProjectRequest',
                      responseType: 'Project',
                      options: http('get', '/v1/projects/{project_id}'),
                    },
                    ListProjects: {
                      requestType: 'ListProjectsRequest',
                      responseType: 'ListProjectsResponse',
                      options: http('get', '/v1/projects'),
                    },
                    GetIamPolicy: {
                      requestType: 'google.iam.v1.GetIamPolicyRequest',
                      responseType: 'google.iam.v1.Policy',
                      options: http('post', '/v1/projects/{resource}:getIamPolicy', '*'),
                    },
                    SetIamPolicy: {
                      requestType: 'google.iam.v1.SetIamPolicyRequest',
                      responseType: 'google.iam.v1.Policy',
                      options: http('post', '/v1/projects/{resource}:setIamPolicy', '*'),
                    },
                    TestIamPermissions: {
                      requestType: 'google.iam.v1.TestIamPermissionsRequest',
                      responseType: 'google.iam.v1.TestIamPermissionsResponse',
                      options: http('post', '/v1/projects/{resource}:testIamPermissions', '*'),
                    },
                  },
                },
                Project: {
                  fields: {
                    projectNumber: { type: 'int64', id: 1 },
                    projectId: str(2),
                    lifecycleState: { type: 'LifecycleState', id: 3 },
                    name: str(4),
                    createTime: { type: 'google.protobuf.Timestamp', id: 5 },
                    labels: { keyType: 'string', type: 'string', id: 6 },
                    parent: { type: 'ResourceId', id: 7 },
                  },
                  nested: {
                    LifecycleState: {
                      values: {
                        LIFECYCLE_STATE_UNSPECIFIED: 0,
                        ACTIVE: 1,
                        DELETE_REQUESTED: 2,
                        DELETE_IN_PROGRESS: 3,
                      },
                    },
                  },
                },
                ResourceId: { fields: { type: str(1), id: str(2) } },
                GetProjectRequest: { fields: { projectId: str(1) } },
                ListProjectsRequest: {
                  fields: { pageToken: str(1), pageSize: { type: 'int32', id: 2 }, filter: str(3) },
                },
                ListProjectsResponse: {
                  fields: { projects: { rule: 'repeated', type: 'Project', id: 1 }, nextPageToken: str(2) },
                },
              },
            },
          },
        },
      },
    },
  },
};
