import { ConfigError, loadConfig } from '../../config.ts';
import { startBot } from '../../main.ts';
import { EXIT, type Io } from '../io.ts';

/** Within Kubernetes' default 30 s termination grace period, with room for the exit itself. */
const GRACE_MS = 25_000;

/** `imagepull serve` / `npm start`: the bot, until SIGTERM/SIGINT, then a graceful stop. */
export async function serve(io: Io): Promise<number> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(io.env);
  } catch (e) {
    if (e instanceof ConfigError) {
      io.err(e.message);
      return EXIT.usage;
    }
    throw e;
  }
  const bot = await startBot(config);
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      bot.logger.info({ signal }, 'shutting down');
      const force = setTimeout(() => {
        bot.logger.error({ waitingOn: bot.stopping }, `the stop overran ${GRACE_MS / 1000} s: exiting anyway`);
        process.exit(EXIT.failure);
      }, GRACE_MS);
      force.unref();
      void bot.stop().finally(resolve);
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  return EXIT.ok;
}
