import type { Alert } from './alert.ts';

/**
 * The names an alert carries, checked against the rules of the systems that issue them (docs/alerts.md, "Names").
 * An alert is input from whoever can publish to the topic: a name that no real cluster could have (a namespace
 * `../../api/v1/…`, a pod `<!channel>`) makes the alert ignored with a reason, before it reaches a Kubernetes path,
 * a console link or a Slack message.
 */

// Kubernetes DNS-1123 label (namespaces, container names) and subdomain (pod names): k8s.io/apimachinery validation.
const DNS_LABEL = /^[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*$/;
// GCP project ids: 6–30 lowercase letters, digits and hyphens, starting with a letter; domain-scoped ids carry a
// `domain.tld:` prefix.
const PROJECT_ID = /^(?:[a-z][-a-z0-9.]{0,62}:)?[a-z][-a-z0-9]{4,28}[a-z0-9]$/;
// GKE locations: a region (`us-central1`) or a zone (`us-central1-a`).
const LOCATION = /^[a-z]+-[a-z]+[0-9]{1,2}(?:-[a-z])?$/;
// GKE cluster names: up to 40 lowercase letters, digits and hyphens, starting with a letter.
const CLUSTER = /^[a-z](?:[-a-z0-9]{0,38}[a-z0-9])?$/;

const RULES: readonly { key: keyof Alert; pattern: RegExp; what: string }[] = [
  { key: 'project', pattern: PROJECT_ID, what: 'a GCP project id' },
  { key: 'location', pattern: LOCATION, what: 'a GKE location' },
  { key: 'cluster', pattern: CLUSTER, what: 'a GKE cluster name' },
  { key: 'namespace', pattern: DNS_LABEL, what: 'a Kubernetes namespace (DNS-1123 label)' },
  { key: 'pod', pattern: DNS_SUBDOMAIN, what: 'a Kubernetes pod name (DNS-1123 subdomain)' },
  { key: 'container', pattern: DNS_LABEL, what: 'a Kubernetes container name (DNS-1123 label)' },
];

/**
 * A node name (DNS-1123 subdomain) the alert merely hints at — the kubelet's host, read ahead of the pod — or
 * undefined: a hint that is not a valid name is dropped, not a reason to ignore the alert.
 */
export function nodeNameHint(value: string | undefined): string | undefined {
  return value !== undefined && DNS_SUBDOMAIN.test(value) ? value : undefined;
}

/** The first name of the alert that no real GKE cluster could carry, with why; undefined when all are valid. */
export function invalidName(alert: Alert): string | undefined {
  for (const { key, pattern, what } of RULES) {
    const value = alert[key];
    if (typeof value === 'string' && !pattern.test(value)) {
      const shown = JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
      return `${key} ${shown} is not ${what}`;
    }
  }
  return undefined;
}
