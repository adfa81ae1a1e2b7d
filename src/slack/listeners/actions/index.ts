import type { App, BlockAction, ButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import type { KnownBlock } from '@slack/types';
import { actionReplyMessage } from '../../blocks/reply.blocks.ts';
import { ACTIONS, parseButtonValue } from '../../ids.ts';
import type { ListenerDeps } from '../deps.ts';
import { tell } from '../reply.ts';

type ButtonArgs = SlackActionMiddlewareArgs<BlockAction<ButtonAction>>;

/** Incident buttons: ack first, then hand the click to the fix use case; the clicker is told the outcome privately. */
export function registerActions(app: App, deps: ListenerDeps): void {
  const on = (
    actionId: string,
    run: (
      incidentId: string,
      planId: string | undefined,
      user: string,
    ) => Promise<{ ok: boolean; code: string; text: string; done?: Promise<void> }>,
  ) =>
    app.action<BlockAction<ButtonAction>>(actionId, async ({ ack, body, action, respond }: ButtonArgs) => {
      await ack();
      const value = parseButtonValue(action.value);
      if (!value) {
        await tell(respond, deps.logger, 'This button carries no incident: nothing was changed.');
        return;
      }
      const reply = await run(value.incidentId, value.planId, body.user.id);
      const message = actionReplyMessage(reply);
      await tell(respond, deps.logger, message.text, message.blocks as KnownBlock[]);
      reply.done?.catch((e: unknown) => deps.logger.error({ err: e, incident: value.incidentId }, 'fix run crashed'));
    });

  on(ACTIONS.grantRestart, (id, plan, user) => deps.actions.approve(id, plan, 'grant-restart', user));
  on(ACTIONS.restart, (id, plan, user) => deps.actions.approve(id, plan, 'restart', user));
  on(ACTIONS.undo, (id, _plan, user) => deps.actions.undo(id, user));
  on(ACTIONS.recheck, (id, _plan, user) => deps.actions.recheck(id, user));
  on(ACTIONS.dismiss, (id, _plan, user) => deps.actions.dismiss(id, user));
}
