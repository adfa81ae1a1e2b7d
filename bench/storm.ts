/**
 * `npm run bench`: an alert storm through the real Pub/Sub emulator into the running bot (a child process, as in
 * production), with the sandbox adding a fixed latency to every Google and Kubernetes API call (docs/testing.md, "The benchmark").
 * Prints a report; it is a measurement, not a pass/fail test. Options:
 *   --latency MS     added to every Google/Kubernetes call (default 50)
 *   --per-pod N      log entries per failing pod (default 20: 500 pods → 10,000 messages)
 *   --trials N       unloaded alert→first-post trials (default 15)
 *   --max-messages N PUBSUB_MAX_MESSAGES for the bot (default: the bot's default)
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { freePort, type Sandbox, startSandbox } from '@imagepull/sandbox';

process.env.METADATA_SERVER_DETECTION = 'none';

/** The V8 flags of `npm start` (package.json), the single place they are defined. */
const START_FLAGS = (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: { start: string } }).scripts.start
  .split(' ')
  .filter((w) => w.startsWith('--max-'));

const { values } = parseArgs({
  options: {
    latency: { type: 'string' },
    'per-pod': { type: 'string' },
    trials: { type: 'string' },
    'max-messages': { type: 'string' },
  },
});
const latencyMs = Number(values.latency ?? 50);
const perPod = Number(values['per-pod'] ?? 20);
const trials = Number(values.trials ?? 15);
const maxMessages = values['max-messages'];

interface Bot {
  child: ChildProcess;
  port: number;
  stderr: string[];
}

async function startBotProcess(sb: Sandbox, extra: Record<string, string> = {}): Promise<Bot> {
  const port = await freePort();
  const env = {
    ...process.env,
    ...sb.env,
    PORT: String(port),
    LOG_LEVEL: 'error',
    UPDATE_INTERVAL_SECONDS: '3',
    ...(maxMessages ? { PUBSUB_MAX_MESSAGES: maxMessages } : {}),
    ...extra,
  };
  // The bot runs as `npm start` / the image do: with the heap flags of package.json "start" (see README).
  const child = spawn(
    process.execPath,
    [...START_FLAGS, ...(process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean), 'src/cli/main.ts', 'serve'],
    { env, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const stderr: string[] = [];
  child.stderr?.on('data', (d: Buffer) => stderr.push(String(d)));
  const bot = { child, port, stderr };
  await until(async () => (await get(bot, '/readyz'))?.status === 200, 30_000, 'bot ready');
  return bot;
}

async function stopBotProcess(bot: Bot): Promise<void> {
  if (bot.child.exitCode !== null) return;
  const exited = new Promise((r) => bot.child.once('exit', r));
  bot.child.kill('SIGTERM');
  await Promise.race([exited, sleep(30_000)]);
  if (bot.child.exitCode === null) bot.child.kill('SIGKILL');
}

async function get(bot: Bot, path: string): Promise<{ status: number; text: string } | undefined> {
  try {
    const r = await fetch(`http://127.0.0.1:${bot.port}${path}`, { signal: AbortSignal.timeout(2000) });
    return { status: r.status, text: await r.text() };
  } catch {
    return undefined;
  }
}

function metric(text: string, name: string, labels = ''): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(name) && line.includes(labels)) sum += Number(line.split(' ').at(-1));
  }
  return sum;
}

/** Peak resident set (VmHWM) of a process, in MB. */
function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

async function until(probe: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function storm(): Promise<Record<string, unknown>> {
  const sb = await startSandbox({ scenario: 'storm', latencyMs, podStartMs: 50 });
  try {
    const entries = sb.google.logEntries({ perPod });
    const pods = new Set(
      entries.map((e) => (e as { resource: { labels: { pod_name: string } } }).resource.labels.pod_name),
    ).size;
    process.stderr.write(`storm: publishing ${entries.length} log entries for ${pods} pods…\n`);
    for (let i = 0; i < entries.length; i += 500)
      await Promise.all(entries.slice(i, i + 500).map((e) => sb.publish(e)));
    sb.google.calls.reset();
    const callsBefore = sb.slack.calls().length;
    const bot = await startBotProcess(sb);
    const ready = Date.now();
    let acked = 0;
    try {
      await until(
        async () => {
          const m = await get(bot, '/metrics');
          acked = m ? metric(m.text, 'imagepull_pubsub_messages_total', 'result="acked"') : acked;
          return acked >= entries.length;
        },
        300_000,
        'the storm to drain',
      );
      const drained = Date.now();
      // Let coalesced updates settle, then read the Slack side.
      await sleep(3500);
      const channel = sb.env.INCIDENT_CHANNEL as string;
      const messages = sb.slack.messages(channel).filter((m) => !m.threadTs);
      const slackCalls = sb.slack.calls().slice(callsBefore);
      const byMethod: Record<string, number> = {};
      for (const c of slackCalls) byMethod[c.method] = (byMethod[c.method] ?? 0) + 1;
      const firstPosts = messages.map((m) => m.postedAt - ready).sort((a, b) => a - b);
      const google = sb.google.calls.list().filter((c) => !c.method.startsWith('kube.')).length;
      const kube = sb.google.calls.count('kube.*');
      const report = sb.slack.rateReport();
      const rss = peakRssMb(bot.child.pid as number);
      return {
        messages: entries.length,
        pods,
        incidentMessages: messages.length,
        drainSeconds: (drained - ready) / 1000,
        messagesPerSecond: Math.round(entries.length / ((drained - ready) / 1000)),
        firstPostMs: firstPosts,
        slackCalls: byMethod,
        maxChatUpdatesPerMessagePer3s: report.maxChatUpdatesPerMessagePer3s,
        googleApiCalls: google,
        kubernetesApiCalls: kube,
        googleCallsPerMessage: google / entries.length,
        peakRssMb: Math.round(rss),
      };
    } finally {
      await stopBotProcess(bot);
    }
  } finally {
    await sb.stop();
  }
}

async function latencyTrials(): Promise<number[]> {
  const out: number[] = [];
  const sb = await startSandbox({ scenario: 'seed', latencyMs, podStartMs: 50 });
  try {
    const [entry] = sb.google.logEntries({ perPod: 1, pods: [sb.google.scenario.target.pod] });
    for (let i = 0; i < trials; i++) {
      const bot = await startBotProcess(sb);
      try {
        await sleep(300); // let the subscriber stream settle
        const before = sb.slack.messages(sb.env.INCIDENT_CHANNEL as string).length;
        const t0 = Date.now();
        await sb.publish({ ...(entry as object), insertId: `bench-${i}-${t0}` });
        await until(() => sb.slack.messages(sb.env.INCIDENT_CHANNEL as string).length > before, 30_000, 'first post');
        const posted = sb.slack.messages(sb.env.INCIDENT_CHANNEL as string).at(-1)?.postedAt ?? Date.now();
        out.push(posted - t0);
      } finally {
        await stopBotProcess(bot);
      }
    }
  } finally {
    await sb.stop();
  }
  return out.sort((a, b) => a - b);
}

const started = Date.now();
const s = await storm();
const lat = await latencyTrials();
const result = {
  at: new Date().toISOString(),
  node: process.version,
  latencyMs,
  storm: s,
  firstPostUnloaded: { trials: lat.length, p50: percentile(lat, 50), p99: percentile(lat, 99), all: lat },
  benchSeconds: Math.round((Date.now() - started) / 1000),
};
mkdirSync('bench/results', { recursive: true });
writeFileSync(`bench/results/storm-${Date.now()}.json`, `${JSON.stringify(result, null, 2)}\n`);

const st = s as {
  messages: number;
  pods: number;
  incidentMessages: number;
  messagesPerSecond: number;
  drainSeconds: number;
  firstPostMs: number[];
  slackCalls: Record<string, number>;
  maxChatUpdatesPerMessagePer3s: number;
  googleApiCalls: number;
  kubernetesApiCalls: number;
  peakRssMb: number;
};
const line = (k: string, v: string, target = '') => console.log(`${k.padEnd(42)} ${v.padEnd(28)} ${target}`);
console.log(
  `\nimagepull-bot alert-storm benchmark — ${result.at}, Node ${process.version}, +${latencyMs} ms per Google/Kubernetes call\n`,
);
line('measure', 'value', 'target (docs/testing.md, "The benchmark")');
line('log entries / pods / root causes', `${st.messages} / ${st.pods} / 2`);
line('incident messages posted', String(st.incidentMessages), 'exactly 2');
line('drain rate (messages/s)', `${st.messagesPerSecond} (${st.drainSeconds.toFixed(1)} s)`, '≥ 2,000');
line('first post after start, per incident (ms)', st.firstPostMs.join(', '));
line(
  'alert → first post, unloaded p50 / p99 (ms)',
  `${result.firstPostUnloaded.p50} / ${result.firstPostUnloaded.p99} (n=${lat.length})`,
  'p50 ≤ 500',
);
line('Slack calls', JSON.stringify(st.slackCalls));
line('max chat.update per message per 3 s', String(st.maxChatUpdatesPerMessagePer3s), '≤ 1');
line(
  'Google API calls (per message)',
  `${st.googleApiCalls} (${(st.googleApiCalls / st.messages).toFixed(3)})`,
  'bounded by distinct facts',
);
line('Kubernetes API calls', String(st.kubernetesApiCalls), '');
line('peak RSS of the bot (MB)', String(st.peakRssMb), '≤ 250');
console.log(`\n(bench took ${result.benchSeconds} s; full result in bench/results/)`);
process.exit(0);
