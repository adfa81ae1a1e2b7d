import type { App } from '@slack/bolt';
import { registerActions } from './actions/index.ts';
import { registerCommands } from './commands/index.ts';
import type { ListenerDeps } from './deps.ts';
import { registerEvents } from './events/index.ts';

export type { ListenerDeps };

export function registerListeners(app: App, deps: ListenerDeps): void {
  registerActions(app, deps);
  registerCommands(app, deps);
  registerEvents(app, deps);
}
