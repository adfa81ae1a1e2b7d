import type { IncidentRecord, MessagePost } from './model.ts';

/**
 * Where an incident is posted (pure): the channel of each namespace's owner (`OWNER_CHANNELS`), the default channel
 * (`INCIDENT_CHANNEL`) for namespaces nobody owns, or the channel `/imagepull diagnose --share` was run in. An
 * incident whose workloads span owners is posted to each owner's channel; channels only ever join, in the order
 * their first workload was seen.
 */
export interface Routing {
  /** Namespace → Slack channel id. */
  readonly owners: ReadonlyMap<string, string>;
  readonly defaultChannel: string;
}

export function channelsFor(incident: IncidentRecord, routing: Routing): string[] {
  const wanted = incident.requestedIn
    ? [incident.requestedIn]
    : incident.affected.map((a) => routing.owners.get(a.namespace) ?? routing.defaultChannel);
  if (wanted.length === 0) wanted.push(routing.defaultChannel);
  // A channel that already has a copy keeps it, whatever the routing says now.
  const posted = (incident.posts ?? []).map((p) => p.channel);
  return [...new Set([...posted, ...wanted])];
}

/** The copy of the message in `channel`, if posted. */
export function postIn(incident: IncidentRecord, channel: string): MessagePost | undefined {
  return incident.posts?.find((p) => p.channel === channel);
}

/** The record with `post` added or replacing the copy in its channel. */
export function withPost(incident: IncidentRecord, post: MessagePost): IncidentRecord {
  const others = (incident.posts ?? []).filter((p) => p.channel !== post.channel);
  return { ...incident, posts: [...others, post] };
}
