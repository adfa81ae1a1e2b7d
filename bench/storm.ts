/**
 * `npm run bench`: an alert storm through the real Pub/Sub emulator into the running bot (its own process or
 * processes, as in production), with the sandbox adding a fixed latency to every Google and Kubernetes API call
 * (docs/testing.md, "The benchmark"). In the same run it measures the floor: the same storm drained by a subscriber
 * that only acknowledges, on the same emulator; and the critical path of one alert (one Kubernetes round trip: the
 * pod, with everything else read beside it) plus the emulator's own delivery time. Results are ratios to those
 * floors, which hold on a noisy machine. It is a report, not a pass/fail test; its last line is one JSON object.
 * Options:
 *   --store memory|firestore   the state store (default memory)
 *   --replicas N               bot processes sharing the subscription (default 1; 2 with firestore)
 *   --latency MS               added to every Google/Kubernetes call (default 50)
 *   --per-pod N                log entries per failing pod (default 20: 500 pods → 10,000 messages)
 *   --trials N                 unloaded alert→first-post trials (default 15)
 *   --runs N                   repeat the whole measurement and report medians (default 1)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startSandbox } from '@imagepull/sandbox';
import {
  cpuMs,
  get,
  median,
  metric,
  peakRssMb,
  percentile,
  sleep,
  startBotProcess,
  stopBotProcess,
  until,
} from './bot-process.ts';
import { createFloor } from './floor.ts';

process.env.METADATA_SERVER_DETECTION = 'none';

const { values } = parseArgs({
  options: {
    store: { type: 'string' },
    replicas: { type: 'string' },
    latency: { type: 'string' },
    'per-pod': { type: 'string' },
    trials: { type: 'string' },
    runs: { type: 'string' },
  },
});
const store = values.store === 'firestore' ? 'firestore' : 'memory';
const replicas = Number(values.replicas ?? (store === 'firestore' ? 2 : 1));
const latencyMs = Number(values.latency ?? 50);
const perPod = Number(values['per-pod'] ?? 20);
const trials = Number(values.trials ?? 15);
const runs = Number(values.runs ?? 1);
/** The bot's PUBSUB_MAX_MESSAGES (passed through to it, else config.ts's default): the floor gets the same flow control. */
const MAX_MESSAGES = Number(process.env.PUBSUB_MAX_MESSAGES || 2000);
/** The bot's PUBSUB_STREAMS (likewise): a second floor opens as many streaming pulls as the bot does. */
const STREAMS = Number(process.env.PUBSUB_STREAMS || 4);
/**
 * Round trips on the critical path of one alert, once the cluster is known (the bot reads it ahead, at start-up):
 * the pod's read, with the node its event names, the namespace's lists, the repository reads and (every node pool
 * running as one service account) the Troubleshooter beside it (docs/diagnosis.md, "Facts").
 */
const CRITICAL_ROUND_TRIPS = 1;
/** What a bot sends each cluster at start-up to open its connections (src/usecases/investigate.ts, `warm`). */
const WARM_UP = 'kube.POST selfsubjectaccessreviews';

interface StormResult {
  messages: number;
  pods: number;
  incidents: number;
  slackPosts: number;
  slackUpdates: number;
  slackThreadReplies: number;
  maxChatUpdatesPerMessagePer3s: number;
  messagesPerSecond: number;
  floorMessagesPerSecond: number;
  /** The ack-only floor with the bot's own number of streaming pulls: the most the bot could drain with them. */
  floorBotStreamsMessagesPerSecond: number;
  googleApiCalls: number;
  kubernetesApiCalls: number;
  kubernetesApiCallsByMethod: Record<string, number>;
  peakRssMb: number;
  /** CPU the bots used while draining, per 1,000 messages (ms, all replicas together): how much of a slow run is the
   * machine (on a shared one it rises with the neighbours' load as well as with the bot's own work). */
  botCpuMsPerThousand: number;
  /** Share of the storm each replica recorded, largest first. */
  replicaShares: number[];
}

async function storm(): Promise<StormResult> {
  const sb = await startSandbox({ scenario: 'storm', latencyMs, podStartMs: 50, firestore: store === 'firestore' });
  try {
    const floor = await createFloor(sb.env.PUBSUB_EMULATOR_HOST as string, sb.topic as string, MAX_MESSAGES);
    const atBotStreams = await createFloor(
      sb.env.PUBSUB_EMULATOR_HOST as string,
      sb.topic as string,
      MAX_MESSAGES,
      STREAMS,
    );
    const entries = sb.google.logEntries({ perPod });
    const pods = new Set(
      entries.map((e) => (e as { resource: { labels: { pod_name: string } } }).resource.labels.pod_name),
    ).size;
    process.stderr.write(`storm: publishing ${entries.length} log entries for ${pods} pods…\n`);
    for (let i = 0; i < entries.length; i += 500)
      await Promise.all(entries.slice(i, i + 500).map((e) => sb.publish(e)));
    const floorRate = await floor.drain(entries.length);
    await floor.close();
    const floorBotStreamsRate = await atBotStreams.drain(entries.length);
    await atBotStreams.close();
    sb.google.calls.reset();
    const callsBefore = sb.slack.calls().length;
    // The replicas start together, and the drain is timed from the first one ready: a replica that is up pulls the
    // storm while the others still start (timing from the last one ready credited it with a head start).
    const readyAt: number[] = [];
    const cpuAtReady: number[] = [];
    const starts = await Promise.allSettled(
      Array.from({ length: replicas }, async () => {
        const bot = await startBotProcess(sb);
        readyAt.push(Date.now());
        cpuAtReady.push(cpuMs(bot.child.pid as number));
        return bot;
      }),
    );
    const bots = starts.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const failed = starts.find((s) => s.status === 'rejected');
    if (failed) {
      // One replica could not start: stop those that did before giving up, none is left running.
      for (const bot of bots) await stopBotProcess(bot);
      throw failed.reason;
    }
    const ready = Math.min(...readyAt);
    try {
      // Alerts each replica has recorded, as of the last look.
      let recordedBy: number[] = [];
      await until(
        async () => {
          recordedBy = [];
          for (const bot of bots) {
            const m = await get(bot, '/metrics');
            recordedBy.push(m ? metric(m.text, 'imagepull_alerts_total', 'outcome="recorded"') : 0);
          }
          return sum(recordedBy) >= entries.length;
        },
        300_000,
        'the storm to drain',
        // Each look is a /metrics scrape the bot pays for (the floor pays nothing): every 250 ms until 80% of the
        // storm is recorded, then every 50 ms, so the drain is timed within ~50 ms at about a fifth of the scrapes.
        () => (sum(recordedBy) < 0.8 * entries.length ? 250 : 50),
      );
      const drained = Date.now();
      const drainCpuMs = sum(bots.map((b) => cpuMs(b.child.pid as number))) - sum(cpuAtReady);
      // Let coalesced updates settle, then read the Slack side.
      await sleep(3500);
      const channel = sb.env.INCIDENT_CHANNEL as string;
      const calls = sb.slack.calls().slice(callsBefore);
      const posts = calls.filter((c) => c.method === 'chat.postMessage' && c.status === 200);
      return {
        messages: entries.length,
        pods,
        incidents: sb.slack.messages(channel).filter((m) => !m.threadTs).length,
        slackPosts: posts.filter((c) => !c.args.thread_ts).length,
        slackThreadReplies: posts.filter((c) => c.args.thread_ts).length,
        slackUpdates: calls.filter((c) => c.method === 'chat.update').length,
        maxChatUpdatesPerMessagePer3s: sb.slack.rateReport().maxChatUpdatesPerMessagePer3s,
        messagesPerSecond: Math.round(entries.length / ((drained - ready) / 1000)),
        floorMessagesPerSecond: floorRate,
        floorBotStreamsMessagesPerSecond: floorBotStreamsRate,
        googleApiCalls: sb.google.calls.list().filter((c) => !c.method.startsWith('kube.')).length,
        kubernetesApiCalls: sb.google.calls.count('kube.*'),
        kubernetesApiCallsByMethod: byMethod(sb.google.calls.list().filter((c) => c.method.startsWith('kube.'))),
        peakRssMb: Math.round(Math.max(...bots.map((b) => peakRssMb(b.child.pid as number)))),
        botCpuMsPerThousand: Math.round((drainCpuMs / entries.length) * 1000),
        replicaShares: recordedBy
          .map((n) => Math.round((n / Math.max(1, entries.length)) * 100) / 100)
          .sort((a, b) => b - a),
      };
    } finally {
      for (const bot of bots) await stopBotProcess(bot);
    }
  } finally {
    await sb.stop();
  }
}

/** Alert → first post on an idle bot (a fresh process per trial), and the emulator's own delivery time. */
async function firstPost(r: number): Promise<{ bot: number[]; delivery: number[] }> {
  const out: number[] = [];
  const sb = await startSandbox({ scenario: 'seed', latencyMs, podStartMs: 50, firestore: store === 'firestore' });
  try {
    const floor = await createFloor(sb.env.PUBSUB_EMULATOR_HOST as string, sb.topic as string, MAX_MESSAGES);
    const delivery = await floor.deliveryMs((i) => sb.publish({ floor: i }).then(() => undefined), trials);
    await floor.close();
    const [entry] = sb.google.logEntries({ perPod: 1, pods: [sb.google.scenario.target.pod] });
    const channel = sb.env.INCIDENT_CHANNEL as string;
    for (let i = 0; i < trials; i++) {
      // With Firestore, the incident outlives its process: each trial gets its own database (a project of the
      // emulator), so that its alert opens a new incident, as a fresh in-memory bot's does.
      const bot = await startBotProcess(
        sb,
        store === 'firestore' ? { FIRESTORE_PROJECT: `bench-trial-${r}-${i}` } : {},
      );
      try {
        await sleep(300); // let the subscriber stream settle
        const before = sb.slack.messages(channel).length;
        const t0 = Date.now();
        await sb.publish({ ...(entry as object), insertId: `bench-${i}-${t0}` });
        await until(() => sb.slack.messages(channel).length > before, 30_000, 'first post');
        out.push((sb.slack.messages(channel).at(-1)?.postedAt ?? Date.now()) - t0);
      } finally {
        await stopBotProcess(bot);
      }
    }
    return { bot: out.sort((a, b) => a - b), delivery };
  } finally {
    await sb.stop();
  }
}

const started = Date.now();
const storms: StormResult[] = [];
const posts: { bot: number[]; delivery: number[] }[] = [];
for (let r = 0; r < runs; r++) {
  storms.push(await storm());
  posts.push(await firstPost(r));
}
const med = (f: (s: StormResult) => number) => median(storms.map(f));
const p50 = median(posts.map((p) => percentile(p.bot, 50)));
const p99 = median(posts.map((p) => percentile(p.bot, 99)));
const deliveryP50 = median(posts.map((p) => percentile(p.delivery, 50)));
const firstPostFloor = CRITICAL_ROUND_TRIPS * latencyMs + deliveryP50;
const summary = {
  incidents: med((s) => s.incidents),
  slackPosts: med((s) => s.slackPosts),
  slackUpdates: med((s) => s.slackUpdates),
  slackThreadReplies: med((s) => s.slackThreadReplies),
  maxChatUpdatesPerMessagePer3s: med((s) => s.maxChatUpdatesPerMessagePer3s),
  messagesPerSecond: med((s) => s.messagesPerSecond),
  floorMessagesPerSecond: med((s) => s.floorMessagesPerSecond),
  drainRatio: Math.round((med((s) => s.messagesPerSecond) / med((s) => s.floorMessagesPerSecond)) * 100) / 100,
  floorBotStreamsMessagesPerSecond: med((s) => s.floorBotStreamsMessagesPerSecond),
  firstPostP50Ms: p50,
  firstPostP99Ms: p99,
  firstPostFloorMs: firstPostFloor,
  googleApiCalls: med((s) => s.googleApiCalls),
  kubernetesApiCalls: med((s) => s.kubernetesApiCalls),
  peakRssMb: med((s) => s.peakRssMb),
  botCpuMsPerThousand: med((s) => s.botCpuMsPerThousand),
  store,
  replicas,
  latencyMs,
  messages: storms[0]?.messages ?? 0,
  pods: storms[0]?.pods ?? 0,
  runs,
};
mkdirSync('bench/results', { recursive: true });
writeFileSync(
  `bench/results/storm-${store}-${Date.now()}.json`,
  `${JSON.stringify({ at: new Date().toISOString(), node: process.version, summary, storms, posts }, null, 2)}\n`,
);

const warmUps = med((s) => s.kubernetesApiCallsByMethod[WARM_UP] ?? 0);
const line = (k: string, v: string, target = '') => console.log(`${k.padEnd(44)} ${v.padEnd(30)} ${target}`);
console.log(
  `\nimagepull-bot alert-storm benchmark — Node ${process.version}, store ${store} × ${replicas}, +${latencyMs} ms per Google/Kubernetes call, ${runs === 1 ? 'one run' : `medians of ${runs} runs`}\n`,
);
line('measure', 'value', 'target');
line('log entries / pods / root causes', `${summary.messages} / ${summary.pods} / 2`);
line('incident messages posted', String(summary.slackPosts), 'exactly 2');
line(
  'drain (messages/s): bot / ack-only floor',
  `${summary.messagesPerSecond} / ${summary.floorMessagesPerSecond} = ${summary.drainRatio}×`,
  store === 'firestore' ? '≥ 0.3×' : '≥ 0.6×',
);
line(
  `  the floor with the bot's ${STREAMS} streams, not 5`,
  `${summary.floorBotStreamsMessagesPerSecond} = ${(summary.floorBotStreamsMessagesPerSecond / summary.floorMessagesPerSecond).toFixed(2)}× the floor`,
  replicas === 1 ? 'the most the bot could drain' : 'the most one replica could drain',
);
line(
  'alert → first post p50 / p99 (ms)',
  `${p50} / ${p99} (floor ${firstPostFloor}: ${CRITICAL_ROUND_TRIPS}×${latencyMs} + delivery ${deliveryP50})`,
  'p50 ≤ 250',
);
line(
  'chat.update calls, max per message per 3 s',
  `${summary.slackUpdates}, ${summary.maxChatUpdatesPerMessagePer3s}`,
  '≤ 1 per 3 s',
);
line('thread replies', String(summary.slackThreadReplies));
line('Google API calls', String(summary.googleApiCalls), 'bounded by distinct facts');
line(
  'Kubernetes API calls',
  `${summary.kubernetesApiCalls} (${warmUps} of them start-up connection warm-ups)`,
  '≤ 100 (namespaces + workloads)',
);
line('peak RSS of a bot process (MB)', String(summary.peakRssMb), '≤ 200');
line('bot CPU while draining (ms per 1,000 msgs)', String(summary.botCpuMsPerThousand));
if (replicas > 1)
  line('share of the storm per replica, each run', storms.map((s) => s.replicaShares.join('/')).join('  '));
console.log(`\n(bench took ${Math.round((Date.now() - started) / 1000)} s; full result in bench/results/)`);
console.log(JSON.stringify(summary));
process.exit(0);

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

/** Calls by method, most first (the full result keeps them, so a count over target shows what it is made of). */
function byMethod(calls: readonly { readonly method: string }[]): Record<string, number> {
  const by = new Map<string, number>();
  for (const c of calls) by.set(c.method, (by.get(c.method) ?? 0) + 1);
  return Object.fromEntries([...by].sort((a, b) => b[1] - a[1]));
}
