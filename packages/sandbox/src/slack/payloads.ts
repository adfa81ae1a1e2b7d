/**
 * The payloads Slack sends an app, built the way real Slack builds them (docs/library-traps.md, "Slack and Bolt"; Slack's
 * interaction-payload reference). Pure functions: ids and times come in as arguments.
 */
import { isRecord } from './block-rules.ts';
import type { SlackChannel, SlackUser } from './types.ts';

/** Who the app is, as every payload names it. */
export interface AppIdentity {
  readonly teamId: string;
  readonly teamDomain: string;
  readonly appId: string;
  readonly botUserId: string;
  /** The legacy verification token Slack still puts in payloads. */
  readonly verificationToken: string;
}

/** Slash command fields, all strings, exactly those Slack sends (form fields over HTTP, JSON in Socket Mode). */
export function slashCommandPayload(
  app: AppIdentity,
  input: {
    readonly user: SlackUser;
    readonly channel: SlackChannel;
    readonly command: string;
    readonly text: string;
    readonly responseUrl: string;
    readonly triggerId: string;
  },
): Record<string, string> {
  return {
    token: app.verificationToken,
    team_id: app.teamId,
    team_domain: app.teamDomain,
    channel_id: input.channel.id,
    channel_name: input.channel.name,
    user_id: input.user.id,
    user_name: input.user.name,
    command: input.command,
    text: input.text,
    api_app_id: app.appId,
    is_enterprise_install: 'false',
    response_url: input.responseUrl,
    trigger_id: input.triggerId,
  };
}

/** A button found in a message, with the block that holds it. */
export interface FoundButton {
  readonly button: Record<string, unknown>;
  /** The block's `block_id`, or the one Slack would have generated for a block that has none. */
  readonly blockId: string;
}

/**
 * Finds the button with `actionId` in `blocks` (in `actions` blocks and section accessories), optionally the one
 * whose `value` is `value` when several blocks reuse an action id.
 */
export function findButton(blocks: readonly unknown[], actionId: string, value?: string): FoundButton | undefined {
  for (const [i, block] of blocks.entries()) {
    if (!isRecord(block)) continue;
    const candidates: unknown[] = [];
    if (block.type === 'actions' && Array.isArray(block.elements)) candidates.push(...block.elements);
    if (block.type === 'section' && block.accessory !== undefined) candidates.push(block.accessory);
    for (const element of candidates) {
      if (!isRecord(element) || element.type !== 'button' || element.action_id !== actionId) continue;
      if (value !== undefined && element.value !== value) continue;
      const blockId = typeof block.block_id === 'string' ? block.block_id : generatedBlockId(i);
      return { button: element, blockId };
    }
  }
  return undefined;
}

/** Slack fills a missing `block_id` with a short random id; the fake makes it a stable function of the position. */
export function generatedBlockId(index: number): string {
  return `sbx${index.toString(36)}`;
}

/** A `block_actions` interaction payload for one button press. */
export function blockActionsPayload(
  app: AppIdentity,
  input: {
    readonly user: SlackUser;
    readonly channel: SlackChannel;
    readonly messageTs: string;
    readonly threadTs?: string;
    readonly isEphemeral: boolean;
    /** The message as Slack shows it; Slack leaves it out for ephemeral messages. */
    readonly message?: Record<string, unknown>;
    readonly button: FoundButton;
    readonly responseUrl: string;
    readonly triggerId: string;
    readonly actionTs: string;
  },
): Record<string, unknown> {
  const { button, blockId } = input.button;
  const action: Record<string, unknown> = {
    action_id: button.action_id,
    block_id: blockId,
    text: button.text,
    type: 'button',
    action_ts: input.actionTs,
  };
  if (button.value !== undefined) action.value = button.value;
  if (button.style !== undefined) action.style = button.style;
  const container: Record<string, unknown> = {
    type: 'message',
    message_ts: input.messageTs,
    channel_id: input.channel.id,
    is_ephemeral: input.isEphemeral,
  };
  if (input.threadTs !== undefined) container.thread_ts = input.threadTs;
  const payload: Record<string, unknown> = {
    type: 'block_actions',
    user: { id: input.user.id, username: input.user.name, name: input.user.name, team_id: app.teamId },
    api_app_id: app.appId,
    token: app.verificationToken,
    container,
    trigger_id: input.triggerId,
    team: { id: app.teamId, domain: app.teamDomain },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: input.channel.id, name: input.channel.name },
    state: { values: {} },
    response_url: input.responseUrl,
    actions: [action],
  };
  if (input.message !== undefined) payload.message = input.message;
  return payload;
}

/** An Events API `event_callback` carrying `app_home_opened` for the Home tab. */
export function appHomeOpenedPayload(
  app: AppIdentity,
  input: {
    readonly user: string;
    readonly dmChannel: string;
    readonly view?: object;
    readonly eventId: string;
    readonly eventTs: string;
  },
): Record<string, unknown> {
  const event: Record<string, unknown> = {
    type: 'app_home_opened',
    user: input.user,
    channel: input.dmChannel,
    tab: 'home',
    event_ts: input.eventTs,
  };
  if (input.view !== undefined) event.view = input.view;
  return {
    token: app.verificationToken,
    team_id: app.teamId,
    context_team_id: app.teamId,
    context_enterprise_id: null,
    api_app_id: app.appId,
    event,
    type: 'event_callback',
    event_id: input.eventId,
    event_time: Math.floor(Number(input.eventTs)),
    authorizations: [
      {
        enterprise_id: null,
        team_id: app.teamId,
        user_id: app.botUserId,
        is_bot: true,
        is_enterprise_install: false,
      },
    ],
    is_ext_shared_channel: false,
  };
}
