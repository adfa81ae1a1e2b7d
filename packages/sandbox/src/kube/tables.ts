/**
 * Server-side printing: a get or list answered as a `meta.k8s.io` Table (what `kubectl get` asks for with
 * `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`), with the `includeObject` semantics of the API server:
 * `Metadata` (the default) embeds each row's object as PartialObjectMetadata, `Object` embeds the whole object,
 * `None` embeds nothing.
 */
import type { KubeObject } from '../world/kube-types.ts';
import { printerFor } from './printers.ts';
import { kubeError } from './status.ts';

/** What each row carries of its object. */
export type IncludeObject = 'None' | 'Metadata' | 'Object';

/** Reads `includeObject` from a query, with the API server's 400 for unknown values. */
export function includeObjectOf(query: URLSearchParams): IncludeObject {
  const v = query.get('includeObject') ?? 'Metadata';
  if (v === '' || v === 'Metadata') return 'Metadata';
  if (v === 'None' || v === 'Object') return v;
  throw kubeError(400, `includeObject must be one of None, Metadata, Object: "${v}"`);
}

/** How to build one Table. */
export interface TableOptions {
  /** `v1` or `v1beta1` of `meta.k8s.io`. */
  readonly version: string;
  readonly includeObject: IncludeObject;
  readonly now: number;
  /** List metadata to carry over (resourceVersion, continue, remainingItemCount). */
  readonly listMeta?: Readonly<Record<string, unknown>>;
  /** Leave out the column definitions (watch events after the first). */
  readonly noHeaders?: boolean;
}

function embedded(obj: KubeObject, include: IncludeObject, version: string): object | undefined {
  if (include === 'None') return undefined;
  if (include === 'Object') return obj;
  return { kind: 'PartialObjectMetadata', apiVersion: `meta.k8s.io/${version}`, metadata: obj.metadata };
}

/**
 * A Table of `objects` of one `kind` (each with its `kind` and `apiVersion` set). For a single get the table's
 * resourceVersion is the object's; for a list it is the list's.
 */
export function toTable(kind: string, objects: readonly KubeObject[], opts: TableOptions): object {
  const printer = printerFor(kind);
  const rows = objects.map((o) => {
    const printed = printer.row(o, opts.now);
    const object = embedded(o, opts.includeObject, opts.version);
    return {
      cells: printed.cells,
      ...(printed.conditions ? { conditions: printed.conditions } : {}),
      ...(object ? { object } : {}),
    };
  });
  const single = opts.listMeta === undefined ? objects[0] : undefined;
  return {
    kind: 'Table',
    apiVersion: `meta.k8s.io/${opts.version}`,
    metadata:
      opts.listMeta ?? (single?.metadata.resourceVersion ? { resourceVersion: single.metadata.resourceVersion } : {}),
    ...(opts.noHeaders ? {} : { columnDefinitions: printer.columns }),
    rows,
  };
}
