import type { App } from '@slack/bolt';
import { homeView } from '../../blocks/home.blocks.ts';
import type { ListenerDeps } from '../deps.ts';

/** App Home: open incidents, pending approvals, recent fixes, permission health. */
export function registerEvents(app: App, deps: ListenerDeps): void {
  app.event('app_home_opened', async ({ event, client }) => {
    if (event.tab !== 'home') return;
    try {
      await client.views.publish({ user_id: event.user, view: homeView(await deps.status()) });
    } catch (e) {
      deps.logger.warn({ err: e }, 'could not publish App Home');
    }
  });
}
