import type { Config } from '../../config.ts';
import { ChatError, type ChatIdentity, type ChatIdentityInfo } from '../../ports/chat.port.ts';
import { BOT_SLACK_SCOPES } from '../bot-permissions.ts';
import type { DoctorItem } from './item.ts';

const REINSTALL = 'then reinstall the app to the workspace (Slack app settings → OAuth & Permissions → Reinstall)';

/**
 * The Slack items: the token (auth.test), its scopes against the ones the bot needs, and the bot's membership of
 * INCIDENT_CHANNEL and every OWNER_CHANNELS channel. A refused or unanswered token stops the Slack items there.
 */
export async function slackChecks(config: Config, chat: ChatIdentity): Promise<DoctorItem[]> {
  let me: ChatIdentityInfo;
  try {
    me = await chat.whoAmI();
  } catch (e) {
    const code = e instanceof ChatError ? e.code : 'request_failed';
    const unreachable = code === 'request_failed' || code === 'fatal_error';
    return [
      {
        id: 'slack.token',
        status: 'fail',
        title: 'Slack token valid',
        detail: `auth.test: ${code}`,
        fix: unreachable
          ? [`Slack did not answer at SLACK_API_URL (${config.slack.apiUrl}): let the bot reach it (egress, proxy)`]
          : [
              'set SLACK_BOT_TOKEN to the app’s Bot User OAuth Token (xoxb-…, Slack app settings → OAuth & Permissions)',
              'if the app was uninstalled or the token revoked, reinstall the app and use the new token',
            ],
      },
    ];
  }
  const items: DoctorItem[] = [
    {
      id: 'slack.token',
      status: 'pass',
      title: 'Slack token valid',
      detail: `bot @${me.user} (${me.userId}) in ${me.team}`,
    },
  ];
  const missing = Object.keys(BOT_SLACK_SCOPES).filter((s) => !me.scopes.includes(s));
  items.push(
    missing.length === 0
      ? { id: 'slack.scopes', status: 'pass', title: 'Slack scopes', detail: me.scopes.join(', ') }
      : {
          id: 'slack.scopes',
          status: 'fail',
          title: 'Slack scopes',
          detail: `missing ${missing.join(', ')} (the token has ${me.scopes.join(', ') || 'none'})`,
          fix: [
            'add under oauth_config.scopes.bot in the app’s manifest (Slack app settings → App Manifest; as in manifest.yml):',
            ...missing.map((s) => `  - ${s} # ${BOT_SLACK_SCOPES[s]}`),
            REINSTALL,
          ],
        },
  );
  const channels: { id: string; variable: string }[] = [{ id: config.incidentChannel, variable: 'INCIDENT_CHANNEL' }];
  for (const [namespace, id] of Object.entries(config.ownerChannels)) {
    if (!channels.some((c) => c.id === id)) channels.push({ id, variable: `OWNER_CHANNELS (${namespace})` });
  }
  for (const c of channels) items.push(await channelCheck(c.id, c.variable, me, chat));
  return items;
}

async function channelCheck(
  id: string,
  variable: string,
  me: ChatIdentityInfo,
  chat: ChatIdentity,
): Promise<DoctorItem> {
  const title = `Bot is in the channel of ${variable}`;
  const invite = `/invite @${me.user}`;
  try {
    const c = await chat.channel(id);
    return c.isMember
      ? { id: 'slack.channel', status: 'pass', title, subject: id, detail: `#${c.name} (${id})` }
      : {
          id: 'slack.channel',
          status: 'fail',
          title,
          subject: id,
          detail: `the bot is not a member of #${c.name} (${id}): its posts there fail with not_in_channel`,
          fix: [`in #${c.name}: ${invite}`],
        };
  } catch (e) {
    const code = e instanceof ChatError ? e.code : 'request_failed';
    const fix =
      code === 'channel_not_found'
        ? [
            `${variable} must be the id of a channel the bot can see (channel details → About → Channel ID)`,
            `a private channel exists for the bot only once invited: ${invite} there`,
          ]
        : code === 'missing_scope'
          ? [
              'conversations.info needs channels:read (groups:read for a private channel): add it under oauth_config.scopes.bot (manifest.yml)',
              REINSTALL,
            ]
          : [`conversations.info failed (${code}): run imagepull doctor again`];
    return {
      id: 'slack.channel',
      status: 'fail',
      title,
      subject: id,
      detail: `conversations.info ${id}: ${code}`,
      fix,
    };
  }
}
