/**
 * One normalized alert, whatever shape Google delivered it in (docs/alerts.md).
 *
 * The alert is a hint, not the truth: the diagnosis always re-reads the live cluster.
 */
export type AlertKind = 'monitoring-incident' | 'log-entry' | 'iam-change' | 'test' | 'ignored';

/** A `SetIamPolicy` that may change who can pull (`iam-change`, from a Cloud Audit Logs entry: alerts/audit-log.ts). */
export interface IamChange {
  /** `projects/P/locations/L/repositories/R`, or `projects/P` (id or number) for a project's allow policy. */
  readonly resource: string;
  readonly scope: 'repository' | 'project';
  /** `protoPayload.methodName`. */
  readonly method: string;
  /** Who made it (`authenticationInfo.principalEmail`), when the entry says. */
  readonly principal?: string;
  /** The binding changes the entry carries (`policyDelta.bindingDeltas`); empty when it carries none. */
  readonly deltas: readonly { readonly action: 'ADD' | 'REMOVE'; readonly role: string; readonly member: string }[];
}

export interface Alert {
  readonly kind: AlertKind;
  /** Monitoring incidents: `closed` resolves. Log entries are always `open`. */
  readonly state?: 'open' | 'closed';
  readonly project?: string;
  /** Cluster location (region or zone). */
  readonly location?: string;
  readonly cluster?: string;
  readonly namespace?: string;
  readonly pod?: string;
  /** Container name, from `involvedObject.fieldPath` (`spec.containers{X}` / `spec.initContainers{X}`) or resource labels. */
  readonly container?: string;
  /** True when the container is an init container (`spec.initContainers{X}`). */
  readonly initContainer?: boolean;
  /**
   * The node whose kubelet reported the event (`source.host`, else `reportingInstance`), when it is a valid node name:
   * a hint that lets the investigation read the node beside the pod; the pod's own `nodeName` decides.
   */
  readonly node?: string;
  /** The kubelet message, when the payload carries it. */
  readonly message?: string;
  /** The image named in the message. */
  readonly image?: string;
  /**
   * `log-entry`: the Event reason (`Failed`, `BackOff`, …).
   * `ignored`: why the payload was ignored (human text, for logs and counters).
   */
  readonly reason?: string;
  /**
   * Key for dropping redeliveries: `log:<insertId>` for log entries,
   * `incident:<incident_id>:<state>` for Monitoring incidents. Absent when the payload has none.
   */
  readonly dedupeKey?: string;
  /** Monitoring incident id, when there is one. */
  readonly incidentId?: string;
  /** Console URL of the incident, when there is one. */
  readonly url?: string;
  /** When the failure was observed (RFC 3339), from the payload. */
  readonly observedAt?: string;
  /** `iam-change`: what changed. */
  readonly iamChange?: IamChange;
}
