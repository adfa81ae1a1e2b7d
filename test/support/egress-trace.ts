/**
 * Runs a real tool (gcloud, kubectl, …) so that nothing it does can leave the machine, and proves it tried
 * nothing: the tool runs in a fresh network namespace that has only loopback (`unshare --net`), reaching the
 * sandbox's loopback ports through forwarders over unix sockets (a unix socket is a file, so it crosses network
 * namespaces), and under `strace -f`, which records every `connect`/`sendto`/`sendmsg` of the tool and all its
 * children. {@link ConfinedRun.violations} lists each one aimed off loopback — a GCE metadata probe
 * (169.254.169.254), a DNS query, anything — and would stay empty only if the tool tried none.
 *
 * The test preload (no-egress.ts) only watches the Node test process itself; this covers child processes.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** One socket address a traced process connected or sent to. */
export interface SocketTarget {
  readonly pid: number;
  readonly syscall: string;
  readonly family: string;
  /** IP address, unix socket path, or '' when the syscall named none. */
  readonly address: string;
  readonly port?: number;
}

/** What a confined run did. */
export interface ConfinedRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Every socket address the tool and its children connected or sent to. */
  readonly targets: readonly SocketTarget[];
  /** The targets off loopback, as readable lines (`connect AF_INET 169.254.169.254:80 (pid 12)`). */
  readonly violations: readonly string[];
}

/** How to run a tool confined. */
export interface ConfineOptions {
  /** Full environment of the tool (nothing is inherited). */
  readonly env: Readonly<Record<string, string>>;
  /** Loopback TCP ports (of 127.0.0.1) the tool may reach: the sandbox's endpoints. */
  readonly ports: readonly number[];
  readonly timeoutMs?: number;
  readonly cwd?: string;
}

/** Thrown when the machine lacks what confinement needs; the message says how to get it. */
export class ConfinementUnavailableError extends Error {}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;

/** Address families that cannot leave the machine. */
const LOCAL_FAMILIES = new Set(['AF_UNIX', 'AF_LOCAL', 'AF_NETLINK', 'AF_UNSPEC']);

/** Parses strace's `-f` output into the socket addresses of connect/sendto/sendmsg calls. */
export function parseStrace(text: string): SocketTarget[] {
  const out: SocketTarget[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\d+)\s+(connect|sendto|sendmsg|sendmmsg)\(/.exec(line);
    if (!m) continue;
    const pid = Number(m[1]);
    const syscall = m[2] ?? '';
    const family = /sa_family=(AF_\w+)/.exec(line)?.[1];
    if (!family) continue; // a connected socket's send names no address
    const v4 = /sin_addr=inet_addr\("([^"]+)"\)/.exec(line)?.[1];
    const v6 = /inet_pton\(AF_INET6, "([^"]+)"/.exec(line)?.[1];
    const path = /sun_path=(@?"[^"]*")/.exec(line)?.[1];
    const port = /sin6?_port=htons\((\d+)\)/.exec(line)?.[1];
    out.push({
      pid,
      syscall,
      family,
      address: v4 ?? v6 ?? path ?? '',
      ...(port !== undefined ? { port: Number(port) } : {}),
    });
  }
  return out;
}

/**
 * True when a target cannot leave the machine: loopback IP, unix or netlink socket. A DNS query (port 53) never
 * counts as local, even to a loopback stub resolver, which would forward it.
 */
export function staysLocal(t: SocketTarget): boolean {
  if (LOCAL_FAMILIES.has(t.family)) return true;
  if (t.port === 53) return false;
  if (t.family === 'AF_INET' || t.family === 'AF_INET6') return LOOPBACK.test(t.address);
  return false;
}

function describe(t: SocketTarget): string {
  const where = t.port !== undefined ? `${t.address}:${t.port}` : t.address;
  return `${t.syscall} ${t.family} ${where} (pid ${t.pid})`;
}

const which = (tool: string): boolean => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;

let checked: string[] | undefined;

/**
 * The `unshare` flags that give this process a loopback-only network namespace; throws
 * {@link ConfinementUnavailableError} naming the missing tool or privilege.
 */
export function confinementPrefix(): string[] {
  if (checked) return checked;
  const missing = ['unshare', 'strace', 'ip'].filter((t) => !which(t));
  if (missing.length > 0) {
    throw new ConfinementUnavailableError(
      `confining a tool needs ${missing.join(', ')}: install them (Debian: apt-get install util-linux strace iproute2)`,
    );
  }
  const flags = process.getuid?.() === 0 ? ['--net'] : ['--map-root-user', '--net'];
  const probe = spawnSync('unshare', [...flags, 'sh', '-c', 'ip link set lo up'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    throw new ConfinementUnavailableError(
      `cannot create a network namespace (unshare ${flags.join(' ')}: ${probe.stderr.trim() || probe.status}); ` +
        'run as root or enable unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1)',
    );
  }
  checked = flags;
  return flags;
}

/** Inside the namespace: listens on 127.0.0.1:PORT for each port and pipes to DIR/PORT.sock; exits with its parent. */
const FORWARDER = `
const net = require('node:net');
const fs = require('node:fs');
const [dir, ...ports] = process.argv.slice(1);
let open = 0;
if (ports.length === 0) fs.writeFileSync(dir + '/ready', '');
for (const port of ports) {
  const server = net.createServer((c) => {
    const u = net.connect(dir + '/' + port + '.sock');
    c.pipe(u).pipe(c);
    c.on('error', () => u.destroy());
    u.on('error', () => c.destroy());
  });
  server.listen(Number(port), '127.0.0.1', () => {
    if (++open === ports.length) fs.writeFileSync(dir + '/ready', '');
  });
}
const parent = process.ppid;
setInterval(() => { if (process.ppid !== parent) process.exit(0); }, 100);
`;

/** On the host: DIR/PORT.sock → 127.0.0.1:PORT. */
async function bridge(dir: string, port: number): Promise<Server> {
  const server = createServer((u) => {
    const c = tcpConnect(port, '127.0.0.1');
    u.pipe(c).pipe(u);
    u.on('error', () => c.destroy());
    c.on('error', () => u.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(join(dir, `${port}.sock`), () => resolve());
  });
  return server;
}

/**
 * Runs `command args` in a loopback-only network namespace under strace and resolves with its exit, output and
 * every socket address it used. It never rejects for the tool's own failure; it rejects (with
 * {@link ConfinementUnavailableError}) when confinement is impossible here, or on timeout.
 */
export async function runConfined(
  command: string,
  args: readonly string[],
  opts: ConfineOptions,
): Promise<ConfinedRun> {
  const flags = confinementPrefix();
  const dir = await mkdtemp(join(tmpdir(), 'confined-'));
  const bridges = await Promise.all(opts.ports.map((p) => bridge(dir, p)));
  const trace = join(dir, 'strace.txt');
  const script = [
    'ip link set lo up || exit 120',
    `"${process.execPath}" -e "$FORWARDER" "$DIR" ${opts.ports.join(' ')} &`,
    'fwd=$!',
    'i=0; while [ ! -e "$DIR/ready" ]; do i=$((i+1)); [ $i -gt 500 ] && exit 121; sleep 0.01; done',
    'strace -f --seccomp-bpf -qq -e trace=connect,sendto,sendmsg,sendmmsg -e signal=none -o "$DIR/strace.txt" -- "$@"',
    'rc=$?; kill $fwd 2>/dev/null; exit $rc',
  ].join('\n');
  try {
    const child = spawn('unshare', [...flags, 'sh', '-c', script, 'confined', command, ...args], {
      env: { ...opts.env, FORWARDER, DIR: dir },
      cwd: opts.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString('utf8');
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString('utf8');
    });
    const code = await new Promise<number | null>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`${command} ${args.join(' ')} did not finish in ${opts.timeoutMs ?? 60_000} ms`));
      }, opts.timeoutMs ?? 60_000);
      child.on('error', reject);
      child.on('close', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    if (code === 120 || code === 121)
      throw new ConfinementUnavailableError(`confinement setup failed (${code}): ${stderr}`);
    const targets = parseStrace(await readFile(trace, 'utf8').catch(() => ''));
    return { code, stdout, stderr, targets, violations: targets.filter((t) => !staysLocal(t)).map(describe) };
  } finally {
    await Promise.all(bridges.map((b) => new Promise<void>((resolve) => b.close(() => resolve()))));
    await rm(dir, { recursive: true, force: true });
  }
}
