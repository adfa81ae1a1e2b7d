import { ProjectsClient } from '@google-cloud/resource-manager/build/src/v3/index.js';
import type { IamPolicy } from '../../diagnosis/iam-policy.ts';
import type { ProjectDirectory } from '../../ports/gcp.port.ts';
import type { ClientOptions } from './client-options.ts';
import { toReadError, withRetry } from './google-errors.ts';
import { type PolicyProto, policyFromProto } from './iam-proto.ts';

/** Resource Manager v3: project numbers (to resolve the `default` node SA) and project allow policies. */
export class ProjectsAdapter implements ProjectDirectory {
  readonly #client: ProjectsClient;
  readonly #timeout: number;

  constructor(options: ClientOptions) {
    this.#client = new ProjectsClient(options.grpc);
    this.#timeout = options.timeoutMs;
  }

  async getProjectNumber(projectId: string): Promise<string> {
    const name = `projects/${projectId}`;
    try {
      const [p] = await withRetry(() => this.#client.getProject({ name }, { timeout: this.#timeout }));
      // The number is the numeric suffix of `name` (docs/library-traps.md, "Google clients").
      const number = /^projects\/(\d+)$/.exec(p.name ?? '')?.[1];
      if (!number) throw new Error(`unexpected project name ${p.name}`);
      return number;
    } catch (e) {
      throw toReadError(e, `Resource Manager projects.get ${name}`, 'resourcemanager.projects.get');
    }
  }

  async getIamPolicy(projectId: string): Promise<IamPolicy> {
    const resource = `projects/${projectId}`;
    try {
      const [p] = await withRetry(() =>
        this.#client.getIamPolicy({ resource, options: { requestedPolicyVersion: 3 } }, { timeout: this.#timeout }),
      );
      return policyFromProto(p as PolicyProto);
    } catch (e) {
      throw toReadError(
        e,
        `Resource Manager projects.getIamPolicy ${resource}`,
        'resourcemanager.projects.getIamPolicy',
      );
    }
  }

  async testPermissions(projectId: string, permissions: readonly string[]): Promise<readonly string[]> {
    const resource = `projects/${projectId}`;
    try {
      const [r] = await withRetry(() =>
        this.#client.testIamPermissions({ resource, permissions: [...permissions] }, { timeout: this.#timeout }),
      );
      return r.permissions ?? [];
    } catch (e) {
      throw toReadError(e, `Resource Manager projects.testIamPermissions ${resource}`);
    }
  }

  async close(): Promise<void> {
    await this.#client.close();
  }
}
