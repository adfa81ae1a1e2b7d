import type { IamBinding, IamPolicy } from '../../diagnosis/iam-policy.ts';

/** The `google.iam.v1.Policy` shape as the Google clients return and accept it (etag is bytes). */
export interface PolicyProto {
  version?: number | null;
  bindings?:
    | {
        role?: string | null;
        members?: string[] | null;
        condition?: { expression?: string | null; title?: string | null; description?: string | null } | null;
      }[]
    | null;
  etag?: Uint8Array | string | null;
}

export function policyFromProto(p: PolicyProto): IamPolicy {
  const etag = p.etag instanceof Uint8Array ? Buffer.from(p.etag).toString('base64') : (p.etag ?? '');
  const bindings: IamBinding[] = (p.bindings ?? []).map((b) => {
    const c = b.condition;
    return {
      role: b.role ?? '',
      members: [...(b.members ?? [])],
      ...(c?.expression
        ? {
            condition: {
              expression: c.expression,
              ...(c.title ? { title: c.title } : {}),
              ...(c.description ? { description: c.description } : {}),
            },
          }
        : {}),
    };
  });
  return { version: p.version ?? 1, etag, bindings };
}

export function policyToProto(p: IamPolicy): PolicyProto & { etag: Uint8Array } {
  return {
    version: p.version,
    etag: Buffer.from(p.etag, 'base64'),
    bindings: p.bindings.map((b) => ({
      role: b.role,
      members: [...b.members],
      ...(b.condition
        ? {
            condition: {
              expression: b.condition.expression,
              title: b.condition.title ?? '',
              description: b.condition.description ?? '',
            },
          }
        : {}),
    })),
  };
}
