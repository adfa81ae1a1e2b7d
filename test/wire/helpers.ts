import type { PostedMessage } from '@imagepull/sandbox';
import { type Sandbox, type SandboxOptions, startSandbox } from '@imagepull/sandbox';
import { createFirestoreStore } from '../../src/adapters/store/firestore-store.ts';
import { loadConfig } from '../../src/config.ts';
import { type Bot, startBot } from '../../src/main.ts';
import type { StateStore } from '../../src/ports/store.port.ts';
import { silentLogger } from '../../src/shared/logger.ts';

// Google clients must never probe the metadata server in tests (docs/library-traps.md, "Google clients").
process.env.METADATA_SERVER_DETECTION = 'none';

export interface Harness {
  readonly sb: Sandbox;
  readonly bot: Bot;
  readonly channel: string;
  /** Waits for the first incident message in the channel. */
  firstMessage(timeoutMs?: number): Promise<PostedMessage>;
  /** The current content of a message, as text (blocks serialized), for assertions. */
  text(ts: string): string;
  /** Its thread replies (the details reply first), as text (text and blocks serialized). */
  thread(ts: string): string;
  /** The message and its thread: what is one tap away counts too. */
  all(ts: string): string;
  stop(): Promise<void>;
}

/**
 * A bot running against the sandbox: the real Bolt app (Socket Mode or signed HTTP), the real Google clients over
 * the wire fakes, the real Pub/Sub (and optionally Firestore) emulator. Always stop it in `after`.
 */
export async function startHarness(
  options: SandboxOptions & { botEnv?: Record<string, string> } = {},
): Promise<Harness> {
  const sb = await startSandbox(options);
  let bot: Bot | undefined;
  try {
    bot = await startBot(loadConfig({ ...sb.env, ...(options.botEnv ?? {}) }), {
      logger: silentLogger(),
      sweepIntervalMs: 0,
    });
    if (options.slackMode === 'http') sb.slack.setHttpTarget(`http://127.0.0.1:${sb.env.PORT}/slack/events`);
    else await sb.slack.waitFor(() => sb.slack.socketConnections().open > 0, 10_000);
  } catch (e) {
    await bot?.stop();
    await sb.stop();
    throw e;
  }
  const channel = sb.env.INCIDENT_CHANNEL as string;
  const b = bot;
  return {
    sb,
    bot: b,
    channel,
    firstMessage: (timeoutMs = 20_000) =>
      sb.slack.waitFor(() => sb.slack.messages(channel).find((m) => !m.threadTs), timeoutMs),
    text: (ts) => JSON.stringify(sb.slack.message(channel, ts)?.blocks ?? []),
    thread: (ts) => JSON.stringify((sb.slack.message(channel, ts)?.replies ?? []).map((r) => [r.text, r.blocks ?? []])),
    all: (ts) =>
      JSON.stringify([
        sb.slack.message(channel, ts)?.blocks ?? [],
        (sb.slack.message(channel, ts)?.replies ?? []).map((r) => [r.text, r.blocks ?? []]),
      ]),
    async stop() {
      await b.stop();
      await sb.stop();
    },
  };
}

/** Polls until `probe` returns a value (sync or async), or fails with what it was waiting for. */
export async function eventually<T>(
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  what: string,
  timeoutMs = 20_000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Every button of a message: action id, value and confirm dialog. */
export function buttons(blocks: readonly unknown[] | undefined): {
  action_id: string;
  value?: string;
  text: string;
  confirm?: { title: { text: string }; text: { text: string } };
}[] {
  const out: ReturnType<typeof buttons> = [];
  for (const b of (blocks ?? []) as {
    type: string;
    elements?: {
      type: string;
      action_id: string;
      value?: string;
      text: { text: string };
      confirm?: { title: { text: string }; text: { text: string } };
    }[];
  }[]) {
    if (b.type !== 'actions') continue;
    for (const e of b.elements ?? [])
      if (e.type === 'button')
        out.push({
          action_id: e.action_id,
          text: e.text.text,
          ...(e.value ? { value: e.value } : {}),
          ...(e.confirm ? { confirm: e.confirm } : {}),
        });
  }
  return out;
}

/** The Firestore state a sandbox started with `firestore: true` gives its bots, read by the test itself. */
export function sandboxStore(sb: Sandbox): StateStore {
  return createFirestoreStore({
    projectId: sb.env.FIRESTORE_PROJECT as string,
    emulatorHost: sb.env.FIRESTORE_EMULATOR_HOST as string,
    logger: silentLogger(),
  });
}
