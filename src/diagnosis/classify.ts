/**
 * Message classification (docs/diagnosis.md, "Causes"): reads one kubelet / container-runtime message and names its cause.
 *
 * Pure and instant: no I/O. The rules are data (`RULES`), tried in order; the first that matches decides.
 * Each rule cites the fixture id (`dev.jsonl` s01…, `extra.jsonl` x001…) or the source text that proves it.
 * Order encodes the traps of the runtime's error shapes: a `NotFound` gRPC code can wrap a platform mismatch,
 * a 403 body can say "or it may not exist", a VPC-SC denial is also a 403, `no such host` on an Artifact
 * Registry host is a network fault, and `API error (500)` is Docker's wrapper, not a registry 5xx.
 * How the message is bounded and normalized, and the image and repository it names, are in `message-text.ts`.
 */
import type { Cause, Classification, NetworkSubKind } from './cause.ts';
import type { RegistryKind } from './image-ref.ts';
import { parseImageRef } from './image-ref.ts';
import { extractImage, readMessage, repositoryNamedIn } from './message-text.ts';

/** One classification rule: if `pattern` matches the normalized message, the cause is `cause`. */
interface Rule {
  readonly cause: Cause;
  readonly pattern: RegExp;
  readonly subKind?: NetworkSubKind;
}

/**
 * The ordered rule table. Comments name the fixture ids or the source format strings each rule comes from.
 * All patterns run on the normalized text (escapes undone, markdown links flattened, Docker's `API error (5xx)`
 * and `(HTTP code N)` wrappers removed).
 */
const RULES: readonly Rule[] = [
  // --- Decided by the kubelet before any registry is contacted ---------------------------------------------
  // kubelet image_manager.go "Container image %q is not present with pull policy of Never" (d03, x111-x114).
  { cause: 'never-pull', pattern: /is not present with pull policy of Never|\bErrImageNeverPull\b/i },
  // kubelet applyDefaultImageTag / distribution "invalid reference format" (s55, s57, x106-x109);
  // CRI-O short-name resolution (containers/image shortnames.go) and distribution NAME_INVALID.
  {
    cause: 'invalid-reference',
    pattern:
      /invalid reference format|\bInvalidImageName\b|couldn't parse image (?:reference|name)|Failed to apply default image tag|repository name must be lowercase|\bNAME_INVALID\b|short-name "[^"]*" did not resolve|short-name resolution enforced|no registries configured while trying to pull an unqualified image|invalid image name/i,
  },

  // --- Decided by what the registry returned, most specific first --------------------------------------------
  // containerd "no match for platform in manifest" under code = NotFound (s52); Docker "no matching manifest
  // for linux/arm64/v8 in the manifest list entries" (x102-x105); CRI-O "no image found in manifest list for
  // architecture"; Windows hcs "The container operating system does not match the host operating system".
  {
    cause: 'platform-mismatch',
    pattern:
      /no match for platform in manifest|no matching manifest for|no image found in (?:manifest list|image index) for architecture|does not match the specified platform|container operating system does not match the host operating system|image operating system "[^"]*" cannot be used on this platform/i,
  },
  // The runtime refuses the manifest's format: containerd 2.0 (GKE 1.33+) "failed to get converter for …: Pulling Schema 1
  // images have been deprecated and disabled by default since containerd v2.0" (b097, b124), Docker's "[DEPRECATION
  // NOTICE] Docker Image Format v1 and Docker Image manifest version 2, schema 1 support is disabled" (b034, b035),
  // "manifest.v1+prettyjws not supported" / "unsupported manifest media type" (b076, b116), go-containerregistry's
  // "unsupported MediaType" (b006). Before not-found and no-detail, whose words the same lines carry.
  {
    cause: 'unsupported-manifest',
    pattern:
      /Schema 1 images|schema 1 support is disabled|Docker Image Format v1|manifest\.v1\+prettyjws|unsupported (?:manifest )?media ?type|failed to get converter for|CONTAINERD_ENABLE_DEPRECATED_PULL_SCHEMA_1_IMAGE/i,
  },
  // VPC Service Controls (s44, s46): checked before any 403 rule because the same denial is a 403.
  {
    cause: 'vpc-sc-denied',
    pattern:
      /vpcServiceControlsUniqueIdentifier|prohibited by organization'?s policy|\bSecurityPolicyViolated\b|VPC Service Controls|VPC_SERVICE_CONTROLS/i,
  },
  // Docker Hub "429 Too Many Requests - Server message: toomanyrequests" (s47, x063-x067), GCR "Status 429" (x062),
  // AR quota "RESOURCE_EXHAUSTED", the kubelet's own registryPullQPS throttle "pull QPS exceeded" (images/puller.go).
  // Before the auth rules: Hub says "unauthenticated pull rate limit" (x066).
  {
    cause: 'rate-limited',
    pattern:
      /toomanyrequests|\b429 Too Many Requests|Too Many Requests|(?:status(?: code)?|Status|HTTP(?: code)?)[ :=]*429\b|Error 429\b|pull rate limit|pull QPS exceeded|\bRESOURCE_EXHAUSTED\b|Quota exceeded|rate exceeded/i,
  },
  // Go crypto/x509 and crypto/tls errors (s50, x089-x092, x142); an HTTP registry reached over HTTPS (x093).
  // "TLS handshake timeout" is a network timeout, not a certificate problem (x075, x076): not matched here.
  {
    cause: 'tls',
    pattern:
      /\bx509:|tls: failed to verify certificate|certificate signed by unknown authority|certificate has expired or is not yet valid|server gave HTTP response to HTTPS client|tls: handshake failure|remote error: tls:|first record does not look like a TLS handshake/i,
  },

  // The node could not unpack what it downloaded: containerd's content store or snapshotter ("failed to unpack image on
  // snapshotter overlayfs: … content digest sha256:…: not found", "apply layer error", b106, b152). A node-side storage
  // problem, not the registry's "not found": `unknown` keeps the raw text.
  {
    cause: 'unknown',
    pattern:
      /failed to unpack image on snapshotter|apply layer error|failed to extract layer|content store: content digest|failed to get reader from content store/i,
  },

  // The node's own container runtime is down (grpc "transport: Error while dialing dial unix
  // /run/containerd/containerd.sock: connect: connection refused"): not a registry or network cause.
  {
    cause: 'unknown',
    pattern: /dial unix [^\s:]*\.sock|(?:containerd|crio|dockershim|docker|cri-dockerd)\.sock: connect:/i,
  },

  // --- Network: the connection to the registry failed (Go net / net/http error shapes) ------------------------
  // gcpdiag image_pull.py "dial tcp.*199.36.153.\d:443: i/o timeout" (restricted/private.googleapis.com VIP).
  {
    cause: 'network',
    subKind: 'restricted-vip',
    pattern:
      /\b199\.36\.153\.\d{1,3}\b[^"\n]{0,80}?(?:i\/o timeout|timed out|connection refused|connection reset|no route to host|network is unreachable|deadline exceeded)/i,
  },
  // Go net "lookup HOST[ on SERVER]: ERR" (x068-x073): a failed lookup is DNS whatever the underlying error,
  // even "read udp …: i/o timeout" (x070) or "connection refused" (x072). Also "no such host" on an AR host.
  {
    cause: 'network',
    subKind: 'dns',
    pattern:
      /\blookup [\w-]+(?:\.[\w-]+)+\.?(?: on \S+?)?: |\blookup [\w.-]+ on \S+?: |no such host|server misbehaving|Temporary failure in name resolution|Name or service not known|could not resolve host|\bNXDOMAIN\b/i,
  },
  // "dial tcp [::1]:7439: connect: connection refused" (s42, x084); Windows "actively refused it".
  { cause: 'network', subKind: 'refused', pattern: /connection refused|actively refused/i },
  // "dial tcp 173.194.205.82:443: i/o timeout" (s36, s38, s40), "Client.Timeout exceeded while awaiting
  // headers" (x074), "context deadline exceeded" (x077), "net/http: TLS handshake timeout" (x075).
  {
    cause: 'network',
    subKind: 'timeout',
    pattern:
      /i\/o timeout|Client\.Timeout exceeded|deadline exceeded|TLS handshake timeout|timeout awaiting response headers|request canceled while waiting for connection|net\/http: request canceled|connection timed out|operation timed out|did not properly respond after a period of time|because of no progress in \d|\b408 Request Time-?out/i,
  },
  // Resets, unreachable routes, proxies and truncated streams; kubelet "context canceled"; old Docker's
  // "Could not reach any registry endpoint" when every mirror failed (x081-x088, x130).
  {
    cause: 'network',
    pattern:
      /connection reset by peer|no route to host|network is unreachable|proxyconnect tcp|unexpected EOF|:\s*EOF\b|broken pipe|forcibly closed by the remote host|context canceled|http2: server sent GOAWAY|Could not reach any registry endpoint|\bdial tcp\b/i,
  },

  // --- Registry-side failure -------------------------------------------------------------------------------
  // kubelet "image pull failed for %s because the registry is unavailable." (d04); 5xx from the registry
  // (x094-x099). Docker's own "API error (500)" wrapper is removed during normalization (s40, x023).
  {
    cause: 'registry-unavailable',
    pattern:
      /because the registry is unavailable|\b50[0-4] (?:Internal Server Error|Bad Gateway|Service (?:Temporarily )?Unavailable|Gateway Time-?out)|(?:status(?: code)?|HTTP status|HTTP code|Status)[ :=]*5\d\d\b|error parsing HTTP 5\d\d response body|:\s*(?:Internal Server Error|Service Unavailable|Bad Gateway|Gateway Timeout)\b|status code returned when fetching (?:blob|manifest) 5\d\d\b|unexpected media type text\/html/i,
  },

  // --- Authentication and authorization ----------------------------------------------------------------------
  // The client's credential helper failed, so no credentials were sent: "error getting credentials - err: exec:
  // "docker-credential-ecr-login": executable file not found in $PATH" (b027, b031, b142), "Credentials store
  // docker-credential-gcr exited with …" (b085), "error getting credentials … docker-credential-gcr/helper: could not
  // retrieve GCR's access token" (b025, b135). An authentication failure, though its text says "not found".
  {
    cause: 'unauthenticated',
    pattern:
      /error getting credentials|Credentials store \S+ exited|docker-credential-[\w.-]+[^\n]{0,80}?(?:executable file not found|not found in \$PATH|resolves to executable|could not retrieve|exited)|Failed to find docker auth|credential helper/i,
  },
  // Google's explicit anonymous denials (s10, x018-x020): the caller sent no credentials at all.
  {
    cause: 'unauthenticated',
    pattern: /Unauthenticated request|Unauthenticated requests do not have permission|Anonymous caller/i,
  },
  // Explicit IAM denials: AR "Permission "artifactregistry.repositories.downloadArtifacts" denied" (s01, s03,
  // s05, s11), GCR "Token exchange failed … storage.buckets.get" (s15), "Caller does not have permission" (s17),
  // GCR "denied: Permission denied for" (s13), AWS "is not authorized to perform: ecr:BatchGetImage" (x006, x017).
  {
    cause: 'permission-denied',
    pattern:
      /Permission ["'][\w.]+["'] denied|(?:Caller|caller) does not have permission|(?:does not|doesn't) have (?:the )?(?:required |needed )?permission|Token exchange failed|storage\.(?:buckets|objects)\.(?:get|list)\b|is not authorized to perform|denied:\s*Permission denied\b|\bPERMISSION_DENIED\b|\bAccessDenied\b|does not have permission to get URL|client with IP '[^']*' is not allowed access|has not been used in project \S+ before or it is disabled|\bSERVICE_DISABLED\b/,
  },
  // An expired registry token is named explicitly even inside Docker's ambiguous wrapper (ECR "Your authorization
  // token has expired. Reauthenticate and try again."): the credentials are the cause.
  {
    cause: 'unauthenticated',
    pattern: /(?:authorization|access|auth|bearer) token (?:has )?expired|token has expired\. Reauthenticate/i,
  },
  // Docker/containerd's deliberately ambiguous answer (d01, s26, x042-x048): the repository is missing or the
  // caller may not see it; registries answer both the same way. `insufficient_scope` is the token-level form.
  {
    cause: 'not-found-or-unauthorized',
    pattern:
      /pull access denied|repository does not exist or may require|requested access to the resource is denied|\binsufficient_scope\b|does not exist or no pull access|may require 'docker login'/i,
  },
  // Any other 403 (s06, s07, x001-x005): "status code [manifests TAG]: 403 Forbidden", "Head …: Forbidden".
  {
    cause: 'permission-denied',
    pattern:
      /\b403 Forbidden\b|(?:status(?: code)?|response status code|Status|HTTP(?: code)?|Error)[ :=]*403\b|error parsing HTTP 403 response body|\(403\)|\bForbidden\b|access forbidden/i,
  },
  // 401 and missing credentials (s18, s20, s22, s24, s27, x021-x041): ECR "no basic auth credentials",
  // ACR/quay "unauthorized: authentication required", containerd "failed to fetch oauth token: … 401".
  {
    cause: 'unauthenticated',
    pattern:
      /\b401 Unauthorized\b|(?:status(?: code)?|response status code|Status|HTTP(?: code)?)[ :=]*401\b|\bstatus\b[^\n:]{0,40}:\s*401\b|\bunauthorized\b|\bunauthenticated\b|authentication ?required|no basic auth credentials|there are no credentials on this request|no scope specified for token auth challenge|failed to fetch (?:anonymous|oauth) token|failed to authorize|authorization failed|incorrect username or password|invalid username\/password|invalid credentials|(?:authorization|access|auth) token (?:has )?expired|Unable to parse json key/i,
  },

  // kubelet FailedToRetrieveImagePullSecret warning (s58, x115) and its older log form (x117) "Unable to retrieve pull secret
  // NS/NAME … due to secret "NAME" not found.  The image pull may not succeed." (kubelet_pods.go): before
  // not-found, whose "not found" it contains. The pull may still fail with another cause, which wins above.
  {
    cause: 'pull-secret-missing',
    pattern:
      /Unable to retrieve (?:some image )?pull secrets?\b|FailedToRetrieveImagePullSecret|The image pull may not succeed/i,
  },

  // --- The image or tag does not exist -------------------------------------------------------------------------
  // containerd "X: not found" under code = NotFound (s28), Docker "manifest unknown" (s30, s32), distribution
  // error codes, AR "Requested entity was not found", Harbor "repository … not found" (x053-x061), a registry
  // proxy missing a layer "unknown blob" (x150).
  {
    cause: 'not-found',
    pattern:
      /\bnot found\b|manifest unknown|\b(?:NAME|MANIFEST|BLOB)_UNKNOWN\b|\b404 Not Found\b|(?:status(?: code)?|Status|HTTP(?: code)?)[ :=]*404\b|code = NotFound|Requested entity was not found|No such image|unknown blob|blob unknown|was deleted or has expired/i,
  },
  // A bare registry "denied" (GHCR "Error response from daemon: denied", x049, x050; the distribution error code
  // "denied: …"): as ambiguous as Docker's wording above. Only the registry's form counts — `denied:` or a final
  // `denied` — not an operating system's "Access is denied." or a filesystem "permission denied" (left `unknown`).
  // (`\s*(?:"\s*)?$`, not `\s*"?\s*$`: two adjacent `\s*` backtrack quadratically over a run of spaces.)
  { cause: 'not-found-or-unauthorized', pattern: /(?:^|[\s:"])(?<![Pp]ermission |is )denied(?::|\s*(?:"\s*)?$)/ },

  // --- No cause in the text ----------------------------------------------------------------------------------
  // kubelet "Back-off pulling image %q" and the bare "Error: ImagePullBackOff" / "Error: ErrImagePull" events
  // (d02, d05, x118-x121, x137-x139): the cause is in an earlier Failed event.
  {
    cause: 'no-detail',
    pattern:
      // (Horizontal space only around a bare reason line: `^\s*` under the `m` flag rescans every following blank line
      // from every line start, quadratic over a run of newlines.)
      /Back-off pulling image|(?:^|\s)Error:[ \t]*(?:ErrImagePull|ImagePullBackOff)\s*$|^[ \t]*(?:ErrImagePull|ImagePullBackOff)[ \t]*$|trying and failing to pull image|can't be pulled/im,
  },
];

/** Removes Docker's transport wrappers, whose status is the daemon's, not the registry's (s40, x023, x054). */
function stripDaemonWrappers(text: string): string {
  return text
    .replace(/API error \(\d{3}\):/g, '')
    .replace(/\(HTTP code \d{3}\)(?: server error| unexpected)?\s*-?/g, '');
}

const MATCHED_MAX = 300;

// "image pull failed for X, this may be because there are no credentials on this request.  details: (…)".
const HEDGED_DETAILS = /this may be because there are no credentials on this request\.\s*details: \(([^\n]{1,4096})\)/;

/** The first rule that matches `text`, or undefined. */
function matchRules(text: string): { cause: Cause; subKind?: NetworkSubKind; matched?: string } | undefined {
  for (const rule of RULES) {
    const m = rule.pattern.exec(text);
    if (m) {
      const matched = m[0].trim().slice(0, MATCHED_MAX);
      return { cause: rule.cause, ...(rule.subKind ? { subKind: rule.subKind } : {}), ...(matched ? { matched } : {}) };
    }
  }
  return undefined;
}

/**
 * Classifies one kubelet/runtime message into a cause (docs/diagnosis.md, "Causes").
 *
 * Guarantees: pure, never throws, always returns one of the stable cause ids (`unknown` when nothing matched);
 * `subKind` only for `network`; `image` is the reference the message names (verbatim, or rebuilt from a
 * `/v2/NAME/manifests/REF` URL when no reference is quoted); `repositoryHint` is an Artifact Registry
 * `projects/P/locations/L/repositories/R` the message names; `matched` is the snippet that decided.
 */
export function classifyMessage(message: string): Classification {
  const text = readMessage(message);
  const ruleText = stripDaemonWrappers(text);

  // The docker-era kubelet hedges ("…, this may be because there are no credentials on this request.  details: (X)"):
  // the registry's own answer in the details decides when it says anything (b065, s20).
  const details = HEDGED_DETAILS.exec(ruleText)?.[1];
  const result = (details !== undefined ? matchRules(details) : undefined) ??
    matchRules(ruleText) ?? { cause: 'unknown' };

  const image = extractImage(text);
  const repositoryHint = repositoryNamedIn(text);
  return {
    ...result,
    ...(image ? { image } : {}),
    ...(repositoryHint ? { repositoryHint } : {}),
  };
}

/** The `imagepull explain --json` object (README, "The CLI"). Absent keys are omitted, never `null`. */
export interface ExplainJson {
  readonly cause: Cause;
  readonly subKind?: NetworkSubKind;
  readonly image?: {
    readonly raw: string;
    readonly registry: string;
    readonly path: string;
    readonly tag?: string;
    readonly digest?: string;
    readonly normalized: string;
  };
  readonly registry?: RegistryKind;
  readonly repository?: string;
}

/**
 * Classifies `message` and shapes the result as the CLI's `explain --json` output.
 *
 * Guarantees: `image` only when the named reference parses; `registry`/`repository` come from that image,
 * or — when no valid image is named — from the repository the message names (`gcr` for the gcr.io
 * repositories, `artifact-registry` otherwise).
 */
export function explainJson(message: string): ExplainJson {
  const c = classifyMessage(message);
  const parsed = c.image !== undefined ? parseImageRef(c.image) : undefined;
  let image: ExplainJson['image'];
  let registry: RegistryKind | undefined;
  let repository: string | undefined;
  if (parsed?.ok) {
    const ref = parsed.ref;
    image = {
      raw: ref.raw,
      registry: ref.registry,
      path: ref.path,
      ...(ref.tag !== undefined ? { tag: ref.tag } : {}),
      ...(ref.digest !== undefined ? { digest: ref.digest } : {}),
      normalized: ref.normalized,
    };
    registry = ref.kind;
    repository = ref.ar?.resourceName;
  } else if (c.repositoryHint !== undefined) {
    repository = c.repositoryHint;
    registry = /\/repositories\/(?:[a-z]+\.)?gcr\.io$/.test(c.repositoryHint) ? 'gcr' : 'artifact-registry';
  }
  return {
    cause: c.cause,
    ...(c.subKind !== undefined ? { subKind: c.subKind } : {}),
    ...(image !== undefined ? { image } : {}),
    ...(registry !== undefined ? { registry } : {}),
    ...(repository !== undefined ? { repository } : {}),
  };
}
