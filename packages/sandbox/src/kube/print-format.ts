/**
 * The building blocks of the API server's table printers: column definitions, cell types, and Go's formatting of
 * durations, labels and selectors as the printers use them.
 */
import type { KubeObject } from '../world/kube-types.ts';

/** `meta.k8s.io/v1` TableColumnDefinition. */
export interface ColumnDefinition {
  readonly name: string;
  readonly type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  readonly format: string;
  readonly description: string;
  readonly priority: number;
}

/** One cell value: the printers only produce strings and integers. */
export type Cell = string | number;

/** `meta.k8s.io/v1` TableRowCondition. */
export interface RowCondition {
  readonly type: 'Completed';
  readonly status: 'True';
  readonly reason: string;
  readonly message: string;
}

/** The cells of one row, plus the row conditions the pod printer sets for finished pods. */
export interface PrintedRow {
  readonly cells: Cell[];
  readonly conditions?: RowCondition[];
}

/** A kind's printer: its columns and how one object becomes a row at time `now`. */
export interface Printer {
  readonly columns: readonly ColumnDefinition[];
  row(obj: KubeObject, now: number): PrintedRow;
}

export const NAME_DOC =
  'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names';
export const AGE_DOC =
  'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata';
export const CONTAINERS_DOC = 'Names of each container in the template.';
export const IMAGES_DOC = 'Images referenced by each container in the template.';
export const SELECTOR_DOC =
  "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment. It must match the pod template's labels.";

export function col(name: string, type: ColumnDefinition['type'], description: string, priority = 0): ColumnDefinition {
  return { name, type, format: name === 'Name' ? 'name' : '', description, priority };
}

export const NAME = col('Name', 'string', NAME_DOC);
export const AGE = col('Age', 'string', AGE_DOC);

/**
 * Go's `duration.HumanDuration` (k8s.io/apimachinery): seconds up to 2 minutes, minutes and seconds up to 10,
 * minutes up to 3 hours, hours and minutes up to 8, hours up to 2 days, days and hours up to 8 days, then days
 * and years.
 */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) return hours % 24 === 0 ? `${hours / 24}d` : `${Math.floor(hours / 24)}d${hours % 24}h`;
  const days = Math.floor(hours / 24);
  if (hours < 24 * 365 * 2) return `${days}d`;
  if (hours < 24 * 365 * 8) return days % 365 === 0 ? `${days / 365}y` : `${Math.floor(days / 365)}y${days % 365}d`;
  return `${Math.floor(days / 365)}y`;
}

/** The age of a timestamp at `now`, or `<unknown>` without one. */
export function since(timestamp: string | undefined | null, now: number): string {
  if (!timestamp) return '<unknown>';
  return humanDuration(now - Date.parse(timestamp));
}

/** `labels.FormatLabels`: `k=v` pairs sorted by key, `<none>` when empty. */
export function formatLabels(labels: Readonly<Record<string, string>> | undefined): string {
  const keys = Object.keys(labels ?? {}).sort();
  return keys.length ? keys.map((k) => `${k}=${labels?.[k]}`).join(',') : '<none>';
}

/** A label selector as a selector string (`app=checkout`); empty for the selector that selects everything. */
export function formatSelector(selector: { matchLabels?: Record<string, string> } | undefined): string {
  const labels = selector?.matchLabels ?? {};
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(',');
}
