/**
 * `metav1.Status` failure bodies, with the reasons and message forms a GKE API server returns.
 */

/** A Kubernetes API failure: HTTP code plus the `Status` body to send. */
export class KubeError extends Error {
  readonly code: number;
  readonly reason: string;
  readonly details?: Record<string, unknown>;

  constructor(code: number, reason: string, message: string, details?: Record<string, unknown>) {
    super(message);
    this.code = code;
    this.reason = reason;
    if (details) this.details = details;
  }

  /** The `Status` object for the response body. */
  body(): Record<string, unknown> {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      ...(this.details ? { details: this.details } : {}),
      code: this.code,
    };
  }
}

const REASONS: Readonly<Record<number, string>> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  406: 'NotAcceptable',
  409: 'Conflict',
  410: 'Expired',
  413: 'RequestEntityTooLarge',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

/** A failure for an HTTP code, with the reason Kubernetes uses for it. */
export function kubeError(code: number, message: string, details?: Record<string, unknown>): KubeError {
  return new KubeError(code, REASONS[code] ?? 'Unknown', message, details);
}

/** `pods "x" not found`. */
export function notFound(resource: string, name: string, group = ''): KubeError {
  const qualified = group ? `${resource}.${group}` : resource;
  return kubeError(404, `${qualified} "${name}" not found`, { name, ...(group ? { group } : {}), kind: resource });
}

/** `secrets "x" already exists` (409 AlreadyExists). */
export function alreadyExists(resource: string, name: string, group = ''): KubeError {
  const qualified = group ? `${resource}.${group}` : resource;
  return new KubeError(409, 'AlreadyExists', `${qualified} "${name}" already exists`, {
    name,
    ...(group ? { group } : {}),
    kind: resource,
  });
}

/**
 * GKE's RBAC refusal: `pods "x" is forbidden: User "u" cannot get resource "pods" in API group "" in the namespace
 * "prod": requires one of ["container.pods.get"] permission(s).`
 */
export function forbidden(
  user: string,
  verb: string,
  resource: string,
  group: string,
  namespace?: string,
  name?: string,
): KubeError {
  const qualified = group ? `${resource}.${group}` : resource;
  const subject = name ? `${qualified} "${name}"` : qualified;
  const scope = namespace ? `in the namespace "${namespace}"` : 'at the cluster scope';
  const gkeVerb = verb === 'patch' ? 'update' : verb;
  return kubeError(
    403,
    `${subject} is forbidden: User "${user}" cannot ${verb} resource "${resource}" in API group "${group}" ${scope}: requires one of ["container.${resource}.${gkeVerb}"] permission(s).`,
    { ...(name ? { name } : {}), ...(group ? { group } : {}), kind: resource },
  );
}
