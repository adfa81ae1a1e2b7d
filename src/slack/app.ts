import { App, type Logger as BoltLogger, LogLevel } from '@slack/bolt';
import type { Config } from '../config.ts';
import type { Logger } from '../shared/logger.ts';
import type { Route } from '../transport/http-routes.ts';
import { GuardedHTTPReceiver } from './guarded-receiver.ts';
import { type ListenerDeps, registerListeners } from './listeners/index.ts';

export interface SlackAppOptions {
  readonly config: Config;
  readonly listeners: ListenerDeps;
  readonly logger: Logger;
  /** The bot's own HTTP routes (health, metrics, push): served by Bolt's receiver in HTTP mode. */
  readonly routes: readonly Route[];
}

/**
 * The Bolt app: Socket Mode (default) or HTTP with signed requests, and the listeners. Transport only: everything
 * else is in the listeners' use cases.
 */
export function createSlackApp(o: SlackAppOptions): App {
  const { config } = o;
  const s = config.slack;
  const logger = boltLogger(o.logger);
  const app = new App({
    token: s.botToken,
    // Socket Mode: the bot's routes get their own server (serveRoutes, bound to HOST); HTTP mode: Bolt's receiver,
    // with a guard in front that refuses bodies Bolt cannot process safely (guarded-receiver.ts).
    ...(s.mode === 'socket'
      ? { socketMode: true, appToken: s.appToken }
      : {
          receiver: new GuardedHTTPReceiver({
            signingSecret: s.signingSecret as string,
            port: config.port,
            customRoutes: [...o.routes],
            logger,
            guardLogger: o.logger,
          }),
        }),
    ...(s.botUserId ? { botUserId: s.botUserId } : {}),
    ...(s.botId ? { botId: s.botId } : {}),
    // Without known bot ids, auth.test runs in init(), where a failure is an error we can report (docs/library-traps.md, "Slack and Bolt").
    deferInitialization: true,
    clientOptions: { slackApiUrl: s.apiUrl },
    logger,
  });
  app.error(async (e) => {
    o.logger.error({ err: e, code: (e as { code?: string }).code }, 'Slack listener error');
  });
  registerListeners(app, o.listeners);
  return app;
}

function boltLogger(logger: Logger): BoltLogger {
  const child = logger.child({ component: 'bolt' });
  let level = LogLevel.INFO;
  const fmt = (msg: unknown[]) => msg.map((m) => (typeof m === 'string' ? m : JSON.stringify(m))).join(' ');
  return {
    debug: (...m) => child.debug(fmt(m)),
    info: (...m) => child.info(fmt(m)),
    warn: (...m) => child.warn(fmt(m)),
    error: (...m) => child.error(fmt(m)),
    setLevel: (l) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => undefined,
  };
}
