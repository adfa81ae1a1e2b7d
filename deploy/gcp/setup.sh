#!/usr/bin/env bash
# The Google Cloud side of imagepull-bot, in one idempotent run: APIs, the alert topic with its dead-letter topic
# and pull subscription, the alert route (a Logging sink, or a log-based alert policy with a Pub/Sub channel) in
# every cluster project, the bot's Google service account, its custom role (bot-role.yaml) in every project it
# serves, and the Workload Identity binding of its Kubernetes ServiceAccount.
#
# Every step reads first and changes only what is missing or different, so a second run changes nothing. Each line
# of output says what it found or did: "+" created or granted, "~" updated, "=" already as wanted.
#
# Usage:
#   deploy/gcp/setup.sh --project BOT_PROJECT --region REGION --clusters PROJECT/LOCATION/NAME[,…] [options]
# Options:
#   --route sink|log-alert     how alerts reach the topic (default sink; see README "The alert route")
#   --repository-projects P,…  more projects whose Artifact Registry repositories the bot reads (and fixes)
#   --firestore                Firestore state (several replicas): the (default) database, roles/datastore.user and
#                              the TTL policy that deletes handled alert ids, and no index on their packed ids
#   --bot-namespace NS         Kubernetes namespace of the bot (default imagepull-bot)
#   --bot-ksa NAME             its Kubernetes ServiceAccount (default imagepull-bot)
#   --bot-gsa ID               its Google service account id (default imagepull-bot)
#   --workload-pool POOL       Workload Identity pool of the cluster the bot runs in (default BOT_PROJECT.svc.id.goog)
#   --topic ID, --subscription ID, --role-id ID   names (defaults gke-image-pull, imagepull-bot, imagepullBot)
# Needs gcloud (with its alpha and beta components for --route log-alert) and rights to create all of the above.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
GCLOUD=${GCLOUD:-gcloud}
ROLE_FILE=${ROLE_FILE:-$HERE/bot-role.yaml}

project="" region="" clusters="" route=sink repo_projects="" firestore=false
namespace=imagepull-bot ksa=imagepull-bot gsa_id=imagepull-bot workload_pool=""
topic=gke-image-pull subscription=imagepull-bot role_id=imagepullBot
sink_name=imagepull-bot-alerts policy_name="imagepull-bot: GKE image pull failed"

usage() {
  sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}" >&2
  exit "${1:-2}"
}

while [ $# -gt 0 ]; do
  flag=$1
  case "$flag" in
    --*=*) value=${flag#*=}; flag=${flag%%=*}; shift ;;
    --firestore | -h | --help) value=""; shift ;;
    --*) [ $# -ge 2 ] || { echo "$flag needs a value" >&2; usage; }; value=$2; shift 2 ;;
    *) echo "unexpected argument: $flag" >&2; usage ;;
  esac
  case "$flag" in
    --project) project=$value ;;
    --region) region=$value ;;
    --clusters) clusters=$value ;;
    --route) route=$value ;;
    --repository-projects) repo_projects=$value ;;
    --firestore) firestore=true ;;
    --bot-namespace) namespace=$value ;;
    --bot-ksa) ksa=$value ;;
    --bot-gsa) gsa_id=$value ;;
    --workload-pool) workload_pool=$value ;;
    --topic) topic=$value ;;
    --subscription) subscription=$value ;;
    --role-id) role_id=$value ;;
    -h | --help) usage 0 ;;
    *) echo "unknown flag: $flag" >&2; usage ;;
  esac
done

[ -n "$project" ] || { echo "--project is required" >&2; usage; }
[ -n "$region" ] || { echo "--region is required" >&2; usage; }
[ -n "$clusters" ] || { echo "--clusters is required (PROJECT/LOCATION/NAME, comma-separated)" >&2; usage; }
case "$route" in sink | log-alert) ;; *) echo "--route must be sink or log-alert (got $route)" >&2; usage ;; esac
[ -f "$ROLE_FILE" ] || { echo "role file $ROLE_FILE is missing" >&2; exit 2; }
command -v "$GCLOUD" >/dev/null || { echo "gcloud is not installed (https://cloud.google.com/sdk/docs/install)" >&2; exit 2; }

workload_pool=${workload_pool:-$project.svc.id.goog}
gsa="$gsa_id@$project.iam.gserviceaccount.com"
topic_name="projects/$project/topics/$topic"
dead_topic="$topic-dead"

IFS=',' read -r -a cluster_list <<<"$clusters"
cluster_projects=()
for c in "${cluster_list[@]}"; do
  IFS='/' read -r cp cl cn extra <<<"$c"
  if [ -z "$cp" ] || [ -z "$cl" ] || [ -z "$cn" ] || [ -n "${extra:-}" ]; then
    echo "--clusters: \"$c\" is not PROJECT/LOCATION/NAME" >&2
    exit 2
  fi
  cluster_projects+=("$cp")
done
IFS=',' read -r -a extra_projects <<<"$repo_projects"
# Every project whose clusters or repositories the bot reads gets the custom role; sinks and alerts only go where
# clusters are. Sorted, without duplicates.
mapfile -t served_projects < <(printf '%s\n' "${cluster_projects[@]}" "${extra_projects[@]}" | sed '/^$/d' | sort -u)
mapfile -t cluster_projects < <(printf '%s\n' "${cluster_projects[@]}" | sort -u)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

g() { "$GCLOUD" --quiet "$@"; }
say() { printf '%s\n' "$*"; }

# describe ARGS…: runs a gcloud read and prints its output. Returns 1 when the resource does not exist; any other
# failure (no permission, API disabled, network) stops the script with gcloud's message.
describe() {
  local out
  if out=$(g "$@" 2>"$work/err"); then
    printf '%s' "$out"
    return 0
  fi
  if grep -qE 'NOT_FOUND|not found|was not found|does not exist' "$work/err"; then return 1; fi
  cat "$work/err" >&2
  exit 1
}

# ensure_binding "GROUP" RESOURCE ROLE MEMBER [flags…]: grants ROLE to MEMBER on RESOURCE (an unconditional
# binding) unless it is there already. GROUP is the gcloud command group, e.g. "projects" or "pubsub topics".
ensure_binding() {
  local group=$1 resource=$2 role=$3 member=$4
  shift 4
  local -a cmd extra=()
  read -r -a cmd <<<"$group"
  case "$group" in projects | "iam service-accounts") extra=(--condition=None) ;; esac
  local granted
  # One line per member: role|member|condition expression (empty for an unconditional binding).
  granted=$(g "${cmd[@]}" get-iam-policy "$resource" "$@" --flatten='bindings[].members' \
    --format='value[separator="|"](bindings.role,bindings.members,bindings.condition.expression)')
  if grep -Fxq "$role|$member|" <<<"$granted"; then
    say "= $role for $member on $resource"
    return
  fi
  g "${cmd[@]}" add-iam-policy-binding "$resource" "$@" --role="$role" --member="$member" "${extra[@]}" \
    --format=none
  say "+ $role for $member on $resource"
}

# ensure_services PROJECT SERVICE…: enables the APIs that are not enabled yet.
ensure_services() {
  local p=$1
  shift
  local enabled missing=()
  enabled=$(g services list --enabled --project="$p" --format='value(config.name)')
  for s in "$@"; do grep -Fxq "$s" <<<"$enabled" || missing+=("$s"); done
  if [ ${#missing[@]} -eq 0 ]; then
    say "= APIs enabled in $p: $*"
    return
  fi
  g services enable "${missing[@]}" --project="$p"
  say "+ enabled in $p: ${missing[*]}"
}

project_number() { g projects describe "$1" --format='value(projectNumber)'; }

# The permissions of bot-role.yaml, sorted, comma-separated (the file's includedPermissions list).
wanted_permissions=$(sed -n '/^includedPermissions:/,/^[^ -]/{s/^ *- *\([A-Za-z0-9_.]*\).*$/\1/p}' "$ROLE_FILE" |
  sort | paste -sd, -)
[ -n "$wanted_permissions" ] || { echo "no includedPermissions in $ROLE_FILE" >&2; exit 2; }

# ensure_role PROJECT: the custom role exists, is not deleted, and has exactly the permissions of bot-role.yaml.
ensure_role() {
  local p=$1 state have
  local name="projects/$p/roles/$role_id"
  if ! state=$(describe iam roles describe "$role_id" --project="$p" \
    --format='value[separator=" "](deleted.yesno(yes=deleted,no=live),includedPermissions.sort().join(","))'); then
    g iam roles create "$role_id" --project="$p" --file="$ROLE_FILE" --format=none
    say "+ role $name"
    return
  fi
  if [ "${state%% *}" = deleted ]; then
    g iam roles undelete "$role_id" --project="$p" --format=none
    say "+ role $name (undeleted)"
  fi
  have=${state#* }
  if [ "$have" = "$wanted_permissions" ]; then
    say "= role $name"
  else
    g iam roles update "$role_id" --project="$p" --file="$ROLE_FILE" --format=none
    say "~ role $name: permissions set to bot-role.yaml"
  fi
}

log_filter() {
  # The kubelet's pull failures as GKE exports them (README "The alert route"), from the named clusters only.
  local clusters_filter="" sep=""
  for c in "${cluster_list[@]}"; do
    IFS='/' read -r cp cl cn <<<"$c"
    [ "$cp" = "$1" ] || continue
    clusters_filter+="$sep(resource.labels.location=\"$cl\" AND resource.labels.cluster_name=\"$cn\")"
    sep=" OR "
  done
  printf '%s' "log_id(\"events\") AND resource.type=\"k8s_pod\" AND jsonPayload.reason=\"Failed\" AND jsonPayload.message=~\"^Failed to pull image\" AND ($clusters_filter)"
}

# ensure_sink PROJECT: a Logging sink to the topic with the filter above; its writer may publish to the topic.
ensure_sink() {
  local p=$1 filter current writer
  filter=$(log_filter "$p")
  local destination="pubsub.googleapis.com/$topic_name"
  if current=$(describe logging sinks describe "$sink_name" --project="$p" \
    --format='value[separator="|"](destination,filter,writerIdentity)'); then
    writer=${current##*|}
    if [ "${current%|*}" = "$destination|$filter" ]; then
      say "= sink projects/$p/sinks/$sink_name"
    else
      writer=$(g logging sinks update "$sink_name" "$destination" --log-filter="$filter" --project="$p" \
        --format='value(writerIdentity)')
      say "~ sink projects/$p/sinks/$sink_name: destination and filter"
    fi
  else
    writer=$(g logging sinks create "$sink_name" "$destination" --log-filter="$filter" --project="$p" \
      --description="GKE image pull failures for imagepull-bot" --format='value(writerIdentity)')
    say "+ sink projects/$p/sinks/$sink_name"
  fi
  ensure_binding "pubsub topics" "$topic" roles/pubsub.publisher "$writer" --project="$project"
}

# ensure_alert PROJECT: a Pub/Sub notification channel to the topic and a log-based alert policy using it, with
# label extractors for the pod, container and message (Monitoring notifications do not carry the log line).
ensure_alert() {
  local p=$1 channel number
  channel=$(g beta monitoring channels list --project="$p" \
    --filter="type=\"pubsub\" AND labels.topic=\"$topic_name\"" --format='value(name)')
  channel=${channel%%$'\n'*}
  if [ -n "$channel" ]; then
    say "= notification channel $channel"
  else
    channel=$(g beta monitoring channels create --project="$p" --type=pubsub --display-name="imagepull-bot alerts" \
      --channel-labels="topic=$topic_name" --format='value(name)')
    say "+ notification channel $channel"
  fi
  number=$(project_number "$p")
  ensure_binding "pubsub topics" "$topic" roles/pubsub.publisher \
    "serviceAccount:service-$number@gcp-sa-monitoring-notification.iam.gserviceaccount.com" --project="$project"
  local existing
  existing=$(g alpha monitoring policies list --project="$p" --filter="displayName=\"$policy_name\"" \
    --format='value(name)')
  existing=${existing%%$'\n'*}
  if [ -n "$existing" ]; then
    say "= alert policy $existing"
    return
  fi
  local filter
  filter=$(log_filter "$p")
  # JSON string escaping of the filter: backslashes, then quotes.
  filter=${filter//\\/\\\\}
  filter=${filter//\"/\\\"}
  cat >"$work/policy.json" <<EOF
{
  "displayName": "$policy_name",
  "combiner": "OR",
  "conditions": [
    {
      "displayName": "Image pull failed",
      "conditionMatchedLog": {
        "filter": "$filter",
        "labelExtractors": {
          "pod": "EXTRACT(jsonPayload.involvedObject.name)",
          "container": "EXTRACT(jsonPayload.involvedObject.fieldPath)",
          "message": "EXTRACT(jsonPayload.message)"
        }
      }
    }
  ],
  "alertStrategy": { "notificationRateLimit": { "period": "300s" }, "autoClose": "1800s" },
  "documentation": {
    "mimeType": "text/markdown",
    "content": "pod: \${log.extracted_label.pod}\ncontainer: \${log.extracted_label.container}\nmessage: \${log.extracted_label.message}"
  },
  "notificationChannels": ["$channel"]
}
EOF
  existing=$(g alpha monitoring policies create --project="$p" --policy-from-file="$work/policy.json" \
    --format='value(name)')
  say "+ alert policy $existing"
}

say "imagepull-bot: project $project, region $region, route $route, clusters ${cluster_list[*]}"

# 1. APIs the bot calls (as its service account, billed to its project) and the ones this script uses.
apis=(artifactregistry.googleapis.com cloudresourcemanager.googleapis.com container.googleapis.com
  iam.googleapis.com policytroubleshooter.googleapis.com pubsub.googleapis.com)
if [ "$route" = sink ]; then apis+=(logging.googleapis.com); else apis+=(monitoring.googleapis.com); fi
if [ "$firestore" = true ]; then apis+=(firestore.googleapis.com); fi
ensure_services "$project" "${apis[@]}"
if [ "$route" = log-alert ]; then
  for p in "${cluster_projects[@]}"; do [ "$p" = "$project" ] || ensure_services "$p" monitoring.googleapis.com; done
fi

# 2. The topic, the dead-letter topic and the bot's pull subscription (kept in the region; never expires).
for t in "$topic" "$dead_topic"; do
  if describe pubsub topics describe "$t" --project="$project" --format='value(name)' >/dev/null; then
    say "= topic projects/$project/topics/$t"
  else
    g pubsub topics create "$t" --project="$project" --message-storage-policy-allowed-regions="$region" --format=none
    say "+ topic projects/$project/topics/$t"
  fi
done
if describe pubsub subscriptions describe "$subscription" --project="$project" --format='value(name)' >/dev/null; then
  say "= subscription projects/$project/subscriptions/$subscription"
else
  g pubsub subscriptions create "$subscription" --project="$project" --topic="$topic" --ack-deadline=30 \
    --dead-letter-topic="$dead_topic" --max-delivery-attempts=10 --expiration-period=never --format=none
  say "+ subscription projects/$project/subscriptions/$subscription"
fi
# Dead-lettering works only when Pub/Sub's own service agent may publish to the dead-letter topic and pull from
# the subscription.
number=$(project_number "$project")
pubsub_agent="serviceAccount:service-$number@gcp-sa-pubsub.iam.gserviceaccount.com"
ensure_binding "pubsub topics" "$dead_topic" roles/pubsub.publisher "$pubsub_agent" --project="$project"
ensure_binding "pubsub subscriptions" "$subscription" roles/pubsub.subscriber "$pubsub_agent" --project="$project"

# 3. The bot's Google service account; it pulls from the subscription and reads it (and nothing else of Pub/Sub).
if describe iam service-accounts describe "$gsa" --project="$project" --format='value(email)' >/dev/null; then
  say "= service account $gsa"
else
  g iam service-accounts create "$gsa_id" --project="$project" --display-name="imagepull-bot" \
    --description="Slack bot that diagnoses and fixes GKE image pulls" --format=none
  say "+ service account $gsa"
fi
ensure_binding "pubsub subscriptions" "$subscription" roles/pubsub.subscriber "serviceAccount:$gsa" \
  --project="$project"
# The readiness check reads the subscription (pubsub.subscriptions.get), which roles/pubsub.subscriber does not hold.
ensure_binding "pubsub subscriptions" "$subscription" roles/pubsub.viewer "serviceAccount:$gsa" --project="$project"

# 4. The custom role in every project the bot serves, granted to the bot there.
for p in "${served_projects[@]}"; do
  ensure_role "$p"
  ensure_binding projects "$p" "projects/$p/roles/$role_id" "serviceAccount:$gsa"
done

# 5. Firestore state (several replicas).
if [ "$firestore" = true ]; then
  if describe firestore databases describe --database='(default)' --project="$project" --format='value(name)' \
    >/dev/null; then
    say "= Firestore database projects/$project/databases/(default)"
  else
    g firestore databases create --database='(default)' --location="$region" --type=firestore-native \
      --project="$project" --format=none
    say "+ Firestore database projects/$project/databases/(default) in $region"
  fi
  ensure_binding projects "$project" roles/datastore.user "serviceAccount:$gsa"
  # Handled alerts are remembered 24 h, in segment documents whose expireAt is their last alert's (docs/architecture.md,
  # "State"); a TTL policy has Firestore delete a segment after that. It takes effect within minutes, so the script does not wait for it.
  ttl=$(describe firestore indexes fields describe expireAt --collection-group=imagepull_deliveries \
    --database='(default)' --project="$project" --format='value(ttlConfig.state)')
  if [ -n "$ttl" ]; then
    say "= Firestore TTL policy on imagepull_deliveries.expireAt ($ttl)"
  else
    g firestore fields ttls update expireAt --collection-group=imagepull_deliveries --enable-ttl \
      --database='(default)' --project="$project" --async --format=none
    say "+ Firestore TTL policy on imagepull_deliveries.expireAt (deletes a segment of handled alert ids 24 h after its last)"
  fi
  # A segment's `keys` is up to 32 KB of packed ids that nothing queries, and Firestore indexes every field by default
  # (each rewrite of a segment rewrites its index entries too): an exemption without indexes. A field that still
  # inherits the database's defaults says so in usesAncestorConfig.
  inherits=$(describe firestore indexes fields describe keys --collection-group=imagepull_deliveries \
    --database='(default)' --project="$project" --format='value(indexConfig.usesAncestorConfig)')
  if [ "$inherits" = True ]; then
    g firestore indexes fields update keys --collection-group=imagepull_deliveries --disable-indexes \
      --database='(default)' --project="$project" --async --format=none
    say "+ Firestore index exemption on imagepull_deliveries.keys (packed alert ids, never queried)"
  else
    say "= Firestore index exemption on imagepull_deliveries.keys"
  fi
fi

# 6. Workload Identity: the bot's Kubernetes ServiceAccount may act as its Google service account.
ensure_binding "iam service-accounts" "$gsa" roles/iam.workloadIdentityUser \
  "serviceAccount:$workload_pool[$namespace/$ksa]" --project="$project"

# 7. The alert route, in every project with clusters.
for p in "${cluster_projects[@]}"; do
  if [ "$route" = sink ]; then ensure_sink "$p"; else ensure_alert "$p"; fi
done

c0=${cluster_list[0]}
say ""
say "Done. For deploy/base/config.env and the manifests:"
say "  PUBSUB_SUBSCRIPTION=projects/$project/subscriptions/$subscription"
say "  DEFAULT_CLUSTER=$c0"
say "  iam.gke.io/gcp-service-account and the ClusterRoleBinding subject: $gsa"
if [ "$firestore" = true ]; then say "  STATE_STORE=firestore FIRESTORE_PROJECT=$project"; fi
say "In every cluster: kubectl apply -k deploy/rbac (the bot's own cluster gets it with its overlay)."
