/**
 * A kubelet / container-runtime message as the classifier reads it (docs/diagnosis.md, "Causes"): bounded, its
 * encodings undone, and what it names — the image reference and the Artifact Registry repository.
 *
 * Pure and instant: no I/O. Every pattern is bounded or linear, so a hostile message costs time linear in the
 * bounded input (test/unit/alerts/bounded-work.test.ts).
 */

/**
 * What is read of a message: registry errors are short, and every pattern then runs in time linear in a bounded
 * input however hostile the text (test/unit/alerts/bounded-work.test.ts).
 */
export const MAX_MESSAGE_CHARS = 16 * 1024;

// A run of backslashes, and an `n` after it that ends an escaped newline. Greedy and never backtracked into: one
// linear pass, whatever the run's length (a `\\+"` search restarted at every backslash was quadratic).
const BACKSLASH_RUN = /\\+(n(?=[\s)"\]]|$))?/g;

/** Undoes the encodings a message picks up on its way to us (JSON/Go quoting, markdown, HTML, Docker wrappers). */
function normalize(message: string): string {
  return (
    message
      // Go %q / JSON escaping, possibly nested: \" \\\" \\\\\" → " (x046, x149 kubelet journal form); an escaped
      // newline becomes a space.
      .replace(BACKSLASH_RUN, (run: string, newline: string | undefined, at: number, all: string) =>
        newline ? ' ' : all[at + run.length] === '"' ? '' : run,
      )
      .replace(/&quot;/g, '"')
      .replace(/&#39;/g, "'")
      .replace(/&amp;/g, '&')
      // Markdown autolinks from issue trackers: "[gcr.io](http://gcr.io/)" → "gcr.io" (s10, s44). Bounded text and
      // URL, so an unclosed link cannot make every `[` scan to the end of the message.
      .replace(/\[([^[\]\n]{0,512})\]\((?:https?|ftp):\/\/[^)\s]{0,2048}\)/g, '$1')
  );
}

/**
 * The text every pattern runs on: `message` coerced to a string, cut to `MAX_MESSAGE_CHARS`, then normalized
 * (escapes undone, HTML entities decoded, markdown links flattened). Never throws.
 */
export function readMessage(message: string): string {
  const raw = typeof message === 'string' ? message : String(message ?? '');
  return normalize(raw.length > MAX_MESSAGE_CHARS ? raw.slice(0, MAX_MESSAGE_CHARS) : raw);
}

/**
 * Image extraction patterns, in order of preference. Each names where the format string comes from.
 * The captured reference is returned verbatim (minus quoting).
 */
const IMAGE_PATTERNS: readonly RegExp[] = [
  // kubelet image_manager.go "Failed to pull image %q: %v" (and containerd's lower-case sandbox form).
  /\bfailed to pull image "([^"]+)"/i,
  // kubelet "Back-off pulling image %q".
  /Back-off pulling image "([^"]+)"/i,
  // kubelet "Container image %q is not present with pull policy of Never".
  /Container image "([^"]+)" is not present/i,
  // kubelet "Failed to apply default image tag %q" / "couldn't parse image reference %q".
  /Failed to apply default image tag "([^"]+)"/i,
  /couldn't parse image (?:reference|name) "([^"]+)"/i,
  // kubelet "Failed to inspect image %q".
  /Failed to inspect image "([^"]+)"/i,
  // kubelet "image pull failed for %s because the registry is unavailable." and the old docker-era
  // "image pull failed for %s, this may be because there are no credentials on this request." (s20, s40).
  /image pull failed for (?!unknown error)([^\s,"]+?)(?:,| because|\s|$)/i,
  // containerd "failed to pull and unpack image %q" / "failed to resolve reference %q".
  /failed to pull and unpack image "([^"]+)"/i,
  /failed to resolve reference "([^"]+)"/i,
  // Docker "pull access denied for %s, repository does not exist" (s13) and "manifest for %s not found" (s30).
  /pull access denied for ([^\s,"]+)/i,
  /manifest for ([^\s,"]+) not found/i,
  // kubelet structured logs: PullImage "x" / image="x"; "Pulling image %q".
  /PullImage "([^"]+)"/,
  /\bimage="([^"]+)"/,
  /Pulling image "([^"]+)"/i,
  // kubectl/skaffold container status "container X is waiting to start: IMAGE can't be pulled".
  /is waiting to start: (\S+) can't be pulled/i,
];

// containers/image "reading manifest TAG in REPO" (CRI-O, podman; x057, x065): the reference is REPO:TAG.
const CRIO_MANIFEST = /reading manifest (\S+) in ([^\s:]+(?::\d+)?\/[^\s:]+)/i;
// Registry API URLs "https://HOST/v2/NAME/manifests/REF" (s01, s36, s42): the reference is HOST/NAME:REF.
// Bounded by the distribution limits (255-character names, 128-character tags) to stay linear on hostile input.
const MANIFEST_URL =
  /https?:\/\/([^/\s"]{1,255})\/v2\/([^\s"?]{1,255}?)\/manifests\/((?:sha256|sha384|sha512):[a-f0-9]{32,128}|[^\s"?:/]{1,128})/i;
// AR resource names named by IAM denials (s01, s03, s10, x018): "projects/P/locations/L/repositories/R".
const REPOSITORY_NAME =
  /projects\/([^/\s"'()<>]+|<[^>\s]+>)\/locations\/([a-z0-9-]+)\/repositories\/([A-Za-z0-9._-]*[A-Za-z0-9])/;

/**
 * The image reference a normalized message names: verbatim (minus quoting) from the first format string that quotes
 * one, else rebuilt from a CRI-O "reading manifest TAG in REPO" or a `/v2/NAME/manifests/REF` URL; undefined when
 * none is named (or the URL host could not be told from a Docker Hub namespace).
 */
export function extractImage(text: string): string | undefined {
  for (const pattern of IMAGE_PATTERNS) {
    const m = pattern.exec(text);
    const image = m?.[1]?.trim();
    if (image) return image;
  }
  const crio = CRIO_MANIFEST.exec(text);
  if (crio?.[1] && crio[2]) {
    const ref = crio[1].replace(/:$/, '');
    return ref.includes(':') ? `${crio[2]}@${ref}` : `${crio[2]}:${ref}`;
  }
  const url = MANIFEST_URL.exec(text);
  if (url?.[1] && url[2] && url[3]) {
    const host = url[1] === 'registry-1.docker.io' ? 'docker.io' : url[1];
    // A host without "." or ":" would be read back as a Docker Hub namespace (s50's redacted "xxx"): skip it.
    if (!/[.:]/.test(host) && host !== 'localhost') return undefined;
    return url[3].includes(':') ? `${host}/${url[2]}@${url[3]}` : `${host}/${url[2]}:${url[3]}`;
  }
  return undefined;
}

/** The Artifact Registry `projects/P/locations/L/repositories/R` a normalized message names, if any. */
export function repositoryNamedIn(text: string): string | undefined {
  const hint = REPOSITORY_NAME.exec(text);
  return hint ? `projects/${hint[1]}/locations/${hint[2]}/repositories/${hint[3]}` : undefined;
}

/**
 * The image reference `message` names, as `classifyMessage(message).image` reads it, without running the cause rules:
 * what an alert parser needs on every message of a storm (the investigation classifies the message itself).
 */
export function imageNamedIn(message: string): string | undefined {
  return extractImage(readMessage(message));
}
