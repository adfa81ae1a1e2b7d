/**
 * The request and resource shapes of the Google REST APIs setup.sh reaches through gcloud, written from the APIs'
 * reference pages (field names in their JSON form). A request with a field these do not name is one the real API
 * answers with `400 Invalid JSON payload received. Unknown name`, so the recorder refuses it the same way.
 */

/** A JSON shape: a scalar kind, an array, a string-keyed map, an enum, or an object with known fields. */
export type Shape =
  | 'string'
  | 'int'
  | 'bool'
  | 'duration'
  | 'any'
  | { readonly arr: Shape }
  | { readonly map: Shape }
  | { readonly oneOf: readonly string[] }
  | { readonly obj: Readonly<Record<string, Shape>>; readonly required?: readonly string[] };

/** Every way `value` differs from `shape`, as `path: problem` lines (empty when it conforms). */
export function shapeErrors(value: unknown, shape: Shape, path = '$'): string[] {
  if (shape === 'any') return [];
  if (shape === 'string') return typeof value === 'string' ? [] : [`${path}: expected a string`];
  if (shape === 'bool') return typeof value === 'boolean' ? [] : [`${path}: expected a boolean`];
  if (shape === 'int') {
    // int64 fields travel as strings in JSON; int32 as numbers. Both are accepted by the APIs.
    const ok =
      (typeof value === 'number' && Number.isInteger(value)) || (typeof value === 'string' && /^-?\d+$/.test(value));
    return ok ? [] : [`${path}: expected an integer`];
  }
  if (shape === 'duration') {
    return typeof value === 'string' && /^\d+(\.\d+)?s$/.test(value)
      ? []
      : [`${path}: expected a duration like "300s"`];
  }
  if ('oneOf' in shape) {
    return typeof value === 'string' && shape.oneOf.includes(value)
      ? []
      : [`${path}: expected one of ${shape.oneOf.join(', ')}`];
  }
  if ('arr' in shape) {
    if (!Array.isArray(value)) return [`${path}: expected an array`];
    return value.flatMap((v, i) => shapeErrors(v, shape.arr, `${path}[${i}]`));
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [`${path}: expected an object`];
  const entries = Object.entries(value as Record<string, unknown>);
  if ('map' in shape) return entries.flatMap(([k, v]) => shapeErrors(v, shape.map, `${path}.${k}`));
  const errors: string[] = [];
  for (const [k, v] of entries) {
    const field = shape.obj[k];
    if (field === undefined) errors.push(`${path}: unknown field "${k}"`);
    else errors.push(...shapeErrors(v, field, `${path}.${k}`));
  }
  for (const r of shape.required ?? []) {
    if (!(r in (value as object))) errors.push(`${path}: missing required field "${r}"`);
  }
  return errors;
}

const strings: Shape = { arr: 'string' };
const labels: Shape = { map: 'string' };

/** google.type.Expr */
const EXPR: Shape = { obj: { expression: 'string', title: 'string', description: 'string', location: 'string' } };

/** google.iam.v1.Policy */
export const POLICY: Shape = {
  obj: {
    version: 'int',
    bindings: { arr: { obj: { role: 'string', members: strings, condition: EXPR }, required: ['role', 'members'] } },
    auditConfigs: {
      arr: {
        obj: { service: 'string', auditLogConfigs: { arr: { obj: { logType: 'string', exemptedMembers: strings } } } },
      },
    },
    etag: 'string',
  },
};

/** google.iam.v1.GetIamPolicyRequest (the body form; IAM's own service accounts take the options as a query). */
export const GET_IAM_POLICY: Shape = { obj: { options: { obj: { requestedPolicyVersion: 'int' } } } };

/** google.iam.v1.SetIamPolicyRequest */
export const SET_IAM_POLICY: Shape = { obj: { policy: POLICY, updateMask: 'string' }, required: ['policy'] };

/** google.iam.admin.v1.Role */
export const ROLE: Shape = {
  obj: {
    name: 'string',
    title: 'string',
    description: 'string',
    includedPermissions: strings,
    stage: { oneOf: ['ALPHA', 'BETA', 'GA', 'DEPRECATED', 'DISABLED', 'EAP'] },
    etag: 'string',
    deleted: 'bool',
  },
};

/** google.iam.admin.v1.CreateRoleRequest (projects.roles.create) */
export const CREATE_ROLE: Shape = { obj: { roleId: 'string', role: ROLE }, required: ['roleId', 'role'] };

/** google.iam.admin.v1.UndeleteRoleRequest */
export const UNDELETE_ROLE: Shape = { obj: { etag: 'string' } };

/** google.iam.admin.v1.ServiceAccount (the writable fields) */
const SERVICE_ACCOUNT: Shape = {
  obj: {
    name: 'string',
    projectId: 'string',
    uniqueId: 'string',
    email: 'string',
    displayName: 'string',
    etag: 'string',
    description: 'string',
    oauth2ClientId: 'string',
    disabled: 'bool',
  },
};

/** google.iam.admin.v1.CreateServiceAccountRequest */
export const CREATE_SERVICE_ACCOUNT: Shape = {
  obj: { accountId: 'string', serviceAccount: SERVICE_ACCOUNT },
  required: ['accountId'],
};

/** google.logging.v2.LogSink */
export const LOG_SINK: Shape = {
  obj: {
    name: 'string',
    resourceName: 'string',
    destination: 'string',
    filter: 'string',
    description: 'string',
    disabled: 'bool',
    exclusions: {
      arr: {
        obj: {
          name: 'string',
          description: 'string',
          filter: 'string',
          disabled: 'bool',
          createTime: 'string',
          updateTime: 'string',
        },
      },
    },
    outputVersionFormat: { oneOf: ['VERSION_FORMAT_UNSPECIFIED', 'V2', 'V1'] },
    writerIdentity: 'string',
    includeChildren: 'bool',
    interceptChildren: 'bool',
    bigqueryOptions: { obj: { usePartitionedTables: 'bool', usesTimestampColumnPartitioning: 'bool' } },
    createTime: 'string',
    updateTime: 'string',
  },
  required: ['name', 'destination'],
};

/** google.monitoring.v3.NotificationChannel */
export const NOTIFICATION_CHANNEL: Shape = {
  obj: {
    type: 'string',
    name: 'string',
    displayName: 'string',
    description: 'string',
    labels,
    userLabels: labels,
    verificationStatus: 'string',
    enabled: 'bool',
    creationRecord: 'any',
    mutationRecords: 'any',
  },
  required: ['type'],
};

/** google.monitoring.v3.AlertPolicy */
export const ALERT_POLICY: Shape = {
  obj: {
    name: 'string',
    displayName: 'string',
    documentation: {
      obj: {
        content: 'string',
        mimeType: 'string',
        subject: 'string',
        links: { arr: { obj: { displayName: 'string', url: 'string' } } },
      },
    },
    userLabels: labels,
    conditions: {
      arr: {
        obj: {
          name: 'string',
          displayName: 'string',
          conditionThreshold: 'any',
          conditionAbsent: 'any',
          conditionMatchedLog: { obj: { filter: 'string', labelExtractors: labels }, required: ['filter'] },
          conditionMonitoringQueryLanguage: 'any',
          conditionPrometheusQueryLanguage: 'any',
          conditionSql: 'any',
        },
      },
    },
    combiner: { oneOf: ['COMBINE_UNSPECIFIED', 'AND', 'OR', 'AND_WITH_MATCHING_RESOURCE'] },
    enabled: 'bool',
    validity: 'any',
    notificationChannels: strings,
    creationRecord: 'any',
    mutationRecord: 'any',
    alertStrategy: {
      obj: {
        notificationRateLimit: { obj: { period: 'duration' } },
        notificationPrompts: { arr: { oneOf: ['NOTIFICATION_PROMPT_UNSPECIFIED', 'OPENED', 'CLOSED'] } },
        autoClose: 'duration',
        notificationChannelStrategy: {
          arr: { obj: { notificationChannelNames: strings, renotifyInterval: 'duration' } },
        },
      },
    },
    severity: { oneOf: ['SEVERITY_UNSPECIFIED', 'CRITICAL', 'ERROR', 'WARNING'] },
  },
};

/** google.api.serviceusage.v1.BatchEnableServicesRequest */
export const BATCH_ENABLE: Shape = { obj: { serviceIds: strings }, required: ['serviceIds'] };

/** google.api.serviceusage.v1.EnableServiceRequest */
export const ENABLE_SERVICE: Shape = { obj: {} };

/** google.firestore.admin.v1.Field (what a TTL update sends: the field's name and its ttlConfig) */
export const FIRESTORE_FIELD: Shape = {
  obj: {
    name: 'string',
    indexConfig: 'any',
    ttlConfig: { obj: { state: { oneOf: ['STATE_UNSPECIFIED', 'CREATING', 'ACTIVE', 'NEEDS_REPAIR'] } } },
  },
};

/** google.firestore.admin.v1.Database (the fields a create sends) */
export const FIRESTORE_DATABASE: Shape = {
  obj: {
    name: 'string',
    locationId: 'string',
    type: { oneOf: ['DATABASE_TYPE_UNSPECIFIED', 'FIRESTORE_NATIVE', 'DATASTORE_MODE'] },
    concurrencyMode: 'string',
    pointInTimeRecoveryEnablement: 'string',
    appEngineIntegrationMode: 'string',
    deleteProtectionState: 'string',
    databaseEdition: 'string',
    cmekConfig: 'any',
    tags: labels,
    etag: 'string',
  },
};
