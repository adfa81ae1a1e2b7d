import { hash } from 'node:crypto';

/**
 * The Pub/Sub deliveries one incident recorded, as the Firestore store keeps them (docs/architecture.md, "State"): a
 * few segment documents per incident instead of one document per delivery, so an alert storm's 10,000 deliveries are
 * five documents, each written in the incident's own commits. Each delivery is a 16-byte entry: the first 10 bytes
 * of the SHA-256 of its id (80 bits: a collision among even a million deliveries of one incident is a chance of one
 * in 10¹²) and, as a 48-bit count of milliseconds, until when it is remembered. Entries are appended to the last
 * segment until it holds {@link SEGMENT_ENTRIES}; a segment before the last is never written again (so a reader that
 * has it keeps it), and its document expires (`expireAt`, the TTL policy's field) once every entry in it has.
 */
export const SEGMENT_ENTRIES = 2000;

const HASH_BYTES = 10;
const TIME_BYTES = 6;
const ENTRY_BYTES = HASH_BYTES + TIME_BYTES;

/** One segment: delivery hash (its bytes as latin1 text) → remembered until (epoch ms). */
export type Segment = ReadonlyMap<string, number>;

/** The hash a delivery id is remembered by. */
export function deliveryHash(key: string): string {
  // One-shot: no Hash object per delivery (10,000 per storm).
  return hash('sha256', key, 'buffer').toString('latin1', 0, HASH_BYTES);
}

export class DeliveryLog {
  /**
   * A random name given to the log when its first delivery is written (kept beside the incident): its segment
   * documents are named from it, so an incident deleted and created again starts a log of its own.
   */
  readonly name: string;
  /** The index of the oldest segment that may hold a live entry: those before it all expired. */
  readonly first: number;
  /** Segments `first` … `end - 1`, oldest first; all but the last are full. */
  readonly segments: readonly Segment[];

  constructor(name: string, first = 0, segments: readonly Segment[] = []) {
    this.name = name;
    this.first = first;
    this.segments = segments;
  }

  /** One past the index of the last segment (the number of segments the incident ever had). */
  get end(): number {
    return this.first + this.segments.length;
  }

  /** Entries held, live or not. */
  get size(): number {
    return this.segments.reduce((n, s) => n + s.size, 0);
  }

  /** The segment at index `i` (from `first`). */
  segment(i: number): Segment {
    return this.segments[i - this.first] ?? new Map();
  }

  /** Whether the delivery is remembered at `nowMs` (an entry past its time counts as absent). */
  remembers(hash: string, nowMs: number): boolean {
    for (const s of this.segments) {
      const until = s.get(hash);
      if (until !== undefined && until > nowMs) return true;
    }
    return false;
  }

  /**
   * This log with `hashes` appended, remembered until `untilMs`, and the indexes of the segments that changed (to be
   * written). The last segment drops its expired entries as it is rewritten; a full one is followed by a new one; the
   * oldest full ones whose every entry expired are left behind (`first` moves past them: their documents expire).
   */
  with(
    hashes: readonly string[],
    untilMs: number,
    nowMs: number,
    capacity = SEGMENT_ENTRIES,
  ): { log: DeliveryLog; written: number[] } {
    if (hashes.length === 0) return { log: this, written: [] };
    const until = Math.ceil(untilMs);
    const segments = [...this.segments];
    let first = this.first;
    while (segments.length > 1 && segmentExpiry(segments[0] as Segment) <= nowMs) {
      segments.shift();
      first++;
    }
    const written: number[] = [];
    let open: Map<string, number> | undefined;
    const last = segments.length - 1;
    if (last >= 0) {
      open = new Map([...(segments[last] as Segment)].filter(([, u]) => u > nowMs));
      if (open.size < capacity) {
        segments[last] = open;
        written.push(first + last);
      } else open = undefined;
    }
    for (const h of hashes) {
      if (!open || open.size >= capacity) {
        open = new Map();
        segments.push(open);
        written.push(first + segments.length - 1);
      }
      open.set(h, until);
    }
    return { log: new DeliveryLog(this.name, first, segments), written };
  }
}

/** A segment as the bytes of its document's `keys` field. */
export function encodeSegment(segment: Segment): Buffer {
  const out = Buffer.allocUnsafe(segment.size * ENTRY_BYTES);
  let at = 0;
  for (const [hash, until] of segment) {
    out.write(hash, at, HASH_BYTES, 'latin1');
    out.writeUIntBE(until, at + HASH_BYTES, TIME_BYTES);
    at += ENTRY_BYTES;
  }
  return out;
}

/** A segment from its document's `keys` field; absent (a segment not written yet, or expired) or malformed: empty. */
export function decodeSegment(bytes: unknown): Segment {
  const out = new Map<string, number>();
  if (!(bytes instanceof Uint8Array)) return out;
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = 0; at + ENTRY_BYTES <= b.length; at += ENTRY_BYTES)
    out.set(b.toString('latin1', at, at + HASH_BYTES), b.readUIntBE(at + HASH_BYTES, TIME_BYTES));
  return out;
}

/** Until when the segment's document is needed: its last entry's time (epoch ms). */
export function segmentExpiry(segment: Segment): number {
  let max = 0;
  for (const u of segment.values()) if (u > max) max = u;
  return max;
}
