import type { AccessVerdict, DenyPolicyHit, OverallAccess } from '../../diagnosis/facts.ts';
import type { AccessChecker } from '../../ports/gcp.port.ts';
import { ReadError } from '../../shared/errors.ts';
import { toReadError, withRetry } from './google-errors.ts';

/** Sends an authorized HTTP request (google-auth-library in production, a static token against the sandbox). */
export type AuthorizedFetch = (
  url: string,
  body: unknown,
  timeoutMs: number,
) => Promise<{ status: number; json: unknown }>;

interface TroubleshootResponse {
  overallAccessState?: string;
  allowPolicyExplanation?: { allowAccessState?: string };
  denyPolicyExplanation?: {
    denyAccessState?: string;
    explainedResources?: {
      fullResourceName?: string;
      denyAccessState?: string;
      explainedPolicies?: { denyAccessState?: string; policy?: { name?: string } }[];
    }[];
  };
}

/**
 * IAM Policy Troubleshooter v3 (`POST /v3/iam:troubleshoot`). There is no Node client for it, so it is called over
 * REST with google-auth-library (docs/diagnosis.md, "Findings"). Reports allow and deny states and names the deny policies that deny.
 */
export class TroubleshooterAdapter implements AccessChecker {
  readonly #baseUrl: string;
  readonly #fetch: AuthorizedFetch;
  readonly #timeout: number;

  constructor(baseUrl: string, fetch: AuthorizedFetch, timeoutMs: number) {
    this.#baseUrl = baseUrl.replace(/\/$/, '');
    this.#fetch = fetch;
    this.#timeout = timeoutMs;
  }

  async troubleshoot(principalEmail: string, fullResourceName: string, permission: string): Promise<AccessVerdict> {
    const call = `Policy Troubleshooter iam.troubleshoot ${fullResourceName}`;
    try {
      const res = await withRetry(async () => {
        const r = await this.#fetch(
          `${this.#baseUrl}/v3/iam:troubleshoot`,
          { accessTuple: { principal: principalEmail, fullResourceName, permission } },
          this.#timeout,
        );
        if (r.status >= 500) throw new ReadError('unavailable', `${call}: HTTP ${r.status}`);
        return r;
      });
      if (res.status !== 200) {
        const message = (res.json as { error?: { message?: string } })?.error?.message ?? `HTTP ${res.status}`;
        throw toReadError({ code: res.status, message }, call, 'artifactregistry.repositories.getIamPolicy');
      }
      return verdictFrom(res.json as TroubleshootResponse);
    } catch (e) {
      throw toReadError(e, call);
    }
  }
}

function verdictFrom(r: TroubleshootResponse): AccessVerdict {
  const denyPolicies: DenyPolicyHit[] = [];
  for (const res of r.denyPolicyExplanation?.explainedResources ?? []) {
    for (const p of res.explainedPolicies ?? []) {
      if (p.denyAccessState === 'DENY_ACCESS_STATE_DENIED' && p.policy?.name) {
        denyPolicies.push({
          policy: p.policy.name,
          ...(res.fullResourceName ? { attachmentPoint: res.fullResourceName } : {}),
        });
      }
    }
  }
  const overall = (r.overallAccessState ?? 'UNKNOWN_INFO') as OverallAccess;
  return {
    overall,
    ...(r.allowPolicyExplanation?.allowAccessState ? { allow: r.allowPolicyExplanation.allowAccessState } : {}),
    ...(r.denyPolicyExplanation?.denyAccessState ? { deny: r.denyPolicyExplanation.denyAccessState } : {}),
    denyPolicies,
  };
}
