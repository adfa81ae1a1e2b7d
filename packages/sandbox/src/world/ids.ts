/**
 * Deterministic identifiers for the simulated world: UIDs, pod-name suffixes, pod-template hashes, IAM etags,
 * event names. A world built twice from the same scenario gets the same names, so goldens and fixtures stay stable.
 */
import { createHash } from 'node:crypto';

/** The alphabet Kubernetes uses for generated names and pod-template hashes (`k8s.io/apimachinery/pkg/util/rand`). */
const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** A small seeded PRNG (mulberry32). Same seed, same sequence. */
export class Rng {
  private state: number;

  constructor(seed: string) {
    this.state = createHash('sha256').update(seed).digest().readUInt32LE(0);
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** `n` lowercase hex digits. */
  hex(n: number): string {
    let out = '';
    for (let i = 0; i < n; i++) out += '0123456789abcdef'[this.int(16)];
    return out;
  }

  /** A version-4-shaped UUID, as Kubernetes assigns to objects. */
  uuid(): string {
    const h = this.hex(32);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${'89ab'[this.int(4)]}${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }

  /** A generated-name suffix like the `q2xnv` of `checkout-7d9c8b6f4-q2xnv`. */
  suffix(n = 5): string {
    let out = '';
    for (let i = 0; i < n; i++) out += SAFE_ALPHABET[this.int(SAFE_ALPHABET.length)];
    return out;
  }
}

/** Hex SHA-256 of a string. */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * A pod-template hash like the ReplicaSet controller's (`7d9c8b6f4`): a hash of the template, encoded in the
 * safe alphabet. Same template, same hash, so restarting with an unchanged template is a no-op.
 */
export function podTemplateHash(template: unknown): string {
  let n = BigInt(`0x${sha256Hex(JSON.stringify(template)).slice(0, 12)}`);
  let out = '';
  while (out.length < 9) {
    out += SAFE_ALPHABET[Number(n % 27n)];
    n /= 27n;
  }
  return out;
}

/** A `sha256:…` image digest derived from a name, for images the scenario does not pin. */
export function fakeDigest(seed: string): string {
  return `sha256:${sha256Hex(`digest:${seed}`)}`;
}
