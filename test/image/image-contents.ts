import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync, type Stats } from 'node:fs';
import { join } from 'node:path';

interface LockEntry {
  readonly dev?: boolean;
  readonly link?: boolean;
  readonly os?: readonly string[];
  readonly cpu?: readonly string[];
  readonly dependencies?: Readonly<Record<string, string>>;
  readonly optionalDependencies?: Readonly<Record<string, string>>;
  readonly peerDependencies?: Readonly<Record<string, string>>;
  readonly peerDependenciesMeta?: Readonly<Record<string, { optional?: boolean }>>;
}

/**
 * The installed paths (`node_modules/a`, `node_modules/a/node_modules/b`…) that the root package's production
 * dependencies need, worked out from package-lock.json alone: its `dependencies` and their dependencies, required
 * peers, and the optional ones built for this platform, each resolved the way Node looks up `node_modules`. The
 * workspace packages and the devDependencies are not roots, so nothing only they need is in it.
 */
export function productionClosure(
  lockfile: { packages: Readonly<Record<string, LockEntry>> },
  manifest: {
    dependencies?: Readonly<Record<string, string>>;
    optionalDependencies?: Readonly<Record<string, string>>;
  },
  platform: { os: string; cpu: string } = { os: process.platform, cpu: process.arch },
): Set<string> {
  const lock = lockfile.packages;
  const resolve = (from: string, name: string): string | undefined => {
    for (let base = from; ; ) {
      const key = base ? `${base}/node_modules/${name}` : `node_modules/${name}`;
      if (lock[key]) return key;
      if (!base) return undefined;
      const i = base.lastIndexOf('/node_modules/');
      base = i < 0 ? '' : base.slice(0, i);
    }
  };
  const fits = (e: LockEntry) => (!e.os || e.os.includes(platform.os)) && (!e.cpu || e.cpu.includes(platform.cpu));
  const needed = new Set<string>();
  const visit = (from: string, deps: Readonly<Record<string, string>> | undefined, optional: boolean) => {
    for (const name of Object.keys(deps ?? {})) {
      const key = resolve(from, name);
      if (!key) {
        if (optional) continue;
        throw new Error(`package-lock.json resolves no ${name} for ${from || 'the root package'}`);
      }
      const entry = lock[key] as LockEntry;
      if ((optional && !fits(entry)) || needed.has(key)) continue;
      needed.add(key);
      walk(key, entry);
    }
  };
  const walk = (key: string, e: LockEntry) => {
    visit(key, e.dependencies, false);
    visit(key, e.optionalDependencies, true);
    const meta = e.peerDependenciesMeta ?? {};
    const peers = Object.entries(e.peerDependencies ?? {}).filter(([n]) => !meta[n]?.optional);
    visit(key, Object.fromEntries(peers), false);
  };
  walk('', { dependencies: manifest.dependencies ?? {}, optionalDependencies: manifest.optionalDependencies ?? {} });
  return needed;
}

/** The packages installed under `dir`/node_modules, as paths relative to `dir` (the lockfile's keys). */
export function installedPackages(dir: string): Set<string> {
  const found = new Set<string>();
  const scan = (modules: string, rel: string) => {
    if (!existsSync(modules)) return;
    for (const e of readdirSync(modules, { withFileTypes: true })) {
      if (e.name.startsWith('.') || !(e.isDirectory() || e.isSymbolicLink())) continue;
      if (e.name.startsWith('@')) {
        for (const s of readdirSync(join(modules, e.name))) add(join(modules, e.name, s), `${rel}/${e.name}/${s}`);
      } else add(join(modules, e.name), `${rel}/${e.name}`);
    }
  };
  const add = (pkg: string, rel: string) => {
    if (existsSync(join(pkg, 'package.json'))) found.add(rel);
    scan(join(pkg, 'node_modules'), `${rel}/node_modules`);
  };
  scan(join(dir, 'node_modules'), 'node_modules');
  return found;
}

/** Every entry under `dir` (not following symbolic links), with its lstat, paths relative to `dir`. */
export function* walkTree(dir: string, rel = ''): Generator<{ readonly path: string; readonly stat: Stats }> {
  for (const name of readdirSync(join(dir, rel))) {
    const path = rel ? `${rel}/${name}` : name;
    const stat = lstatSync(join(dir, path));
    yield { path, stat };
    if (stat.isDirectory()) yield* walkTree(dir, path);
  }
}

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/**
 * The files under `root` whose content is byte for byte that of a (non-empty) file under one of `sources`, as
 * `image path = source path`. Only files of a matching size are read.
 */
export function sameFiles(root: string, sources: readonly string[]): string[] {
  const bySize = new Map<number, Map<string, string>>();
  for (const source of sources) {
    for (const { path, stat } of walkTree(source)) {
      if (!stat.isFile() || stat.size === 0) continue;
      const hashes = bySize.get(stat.size) ?? new Map<string, string>();
      hashes.set(sha256(join(source, path)), join(source, path));
      bySize.set(stat.size, hashes);
    }
  }
  const same: string[] = [];
  for (const { path, stat } of walkTree(root)) {
    const hashes = stat.isFile() ? bySize.get(stat.size) : undefined;
    const match = hashes?.get(sha256(join(root, path)));
    if (match) same.push(`/${path} = ${match}`);
  }
  return same;
}
