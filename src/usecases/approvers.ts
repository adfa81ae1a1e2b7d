import { type ApproverPolicy, authorize, type Decision } from '../fixes/guards.ts';
import type { IncidentRecord } from '../incidents/model.ts';
import type { ChatPort } from '../ports/chat.port.ts';
import type { Logger } from '../shared/logger.ts';

/** How long the members of an approver user group are trusted before they are read again. */
const GROUP_TTL_MS = 5 * 60_000;

/**
 * Who may approve: the configured Slack user ids, plus the members of the configured user groups
 * (`usergroups.users.list`, cached for a few minutes). A group that cannot be read grants nobody.
 */
export class Approvers {
  readonly #users: ReadonlySet<string>;
  readonly #groups: readonly string[];
  readonly #fourEyes: boolean;
  readonly #chat: Pick<ChatPort, 'usergroupMembers'>;
  readonly #logger: Logger;
  readonly #cache = new Map<string, { members: readonly string[]; until: number }>();

  constructor(
    approvers: readonly string[],
    fourEyes: boolean,
    chat: Pick<ChatPort, 'usergroupMembers'>,
    logger: Logger,
  ) {
    this.#users = new Set(approvers.filter((a) => !a.startsWith('S')));
    this.#groups = approvers.filter((a) => a.startsWith('S'));
    this.#fourEyes = fourEyes;
    this.#chat = chat;
    this.#logger = logger;
  }

  async decide(user: string, incident: IncidentRecord): Promise<Decision> {
    return authorize(user, await this.#policy(), incident);
  }

  async #policy(): Promise<ApproverPolicy> {
    const members = new Set<string>();
    for (const g of this.#groups) {
      try {
        for (const m of await this.#members(g)) members.add(m);
      } catch (e) {
        this.#logger.warn({ usergroup: g, err: e }, 'could not read approver group');
      }
    }
    return { users: this.#users, groupMembers: members, fourEyes: this.#fourEyes };
  }

  async #members(group: string): Promise<readonly string[]> {
    const hit = this.#cache.get(group);
    if (hit && hit.until > Date.now()) return hit.members;
    const members = await this.#chat.usergroupMembers(group);
    this.#cache.set(group, { members, until: Date.now() + GROUP_TTL_MS });
    return members;
  }
}
