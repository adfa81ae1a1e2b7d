# syntax=docker/dockerfile:1
# The production image: the compiled bot and its production dependencies on Node 24 LTS, nothing else — no
# simulator (packages/sandbox), no dev dependency, no TypeScript source. Runs as uid 1000, writes nothing under /app
# (runs with a read-only root filesystem; /tmp is the only place a dependency may write). No credentials are baked in:
# on GKE use Workload Identity. `npm run test:image` builds and runs it (test/image/image.test.ts).
#
# NODE_IMAGE: any image laid out like the official one (node and npm on PATH, user `node` = uid 1000). The image test
# builds against a local stand-in (test/image/standin-base.sh) where no container registry is reachable.
ARG NODE_IMAGE=node:24-bookworm-slim

# Compile. The sandbox workspace package is here only because the CLI's loader imports its types.
FROM ${NODE_IMAGE} AS build
WORKDIR /build
COPY package.json package-lock.json ./
COPY packages/sandbox/package.json ./packages/sandbox/
# Behind a TLS-intercepting proxy, pass its CA bundle as a build secret: --secret id=npm-ca,src=FILE (never stored).
RUN --mount=type=cache,target=/root/.npm,sharing=locked --mount=type=secret,id=npm-ca \
    if [ -s /run/secrets/npm-ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/npm-ca; fi; \
    npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY packages/sandbox/src ./packages/sandbox/src
COPY src ./src
RUN npm run build

# Production dependencies from the lockfile alone: without the workspace, so neither the sandbox nor its own
# dependencies (ws…) come along, and without install scripts (none of the production dependencies needs one).
# Type declarations and source maps are never read at run time: a third of node_modules, dropped.
FROM ${NODE_IMAGE} AS production-dependencies
WORKDIR /build
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm,sharing=locked --mount=type=secret,id=npm-ca \
    if [ -s /run/secrets/npm-ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/npm-ca; fi; \
    npm ci --omit=dev --workspaces=false --ignore-scripts --no-audit --no-fund \
 && find node_modules -type f \( -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.map' \) -delete

FROM ${NODE_IMAGE}
LABEL org.opencontainers.image.title="imagepull-bot" \
      org.opencontainers.image.description="Slack chat-ops bot that diagnoses and fixes GKE ImagePullBackOff" \
      org.opencontainers.image.licenses="Apache-2.0"
# glibc's allocator, held to what the bot needs (README, "Performance"): at most two arenas (the default, 8 per core,
# keeps tens of MB resident for nothing), and a fixed mmap threshold, so that a large buffer (a 9 MB Pub/Sub message)
# is given back to the system when freed instead of raising the threshold and staying in the heap: 10–15 MB less
# at idle, and 20–30 MB less after a wave of large messages (test/wire/hostile/large-payloads.test.ts).
ENV NODE_ENV=production MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=131072
WORKDIR /app
# Owned by root and read-only to the bot's user: the running process cannot change its own code.
COPY package.json ./
COPY --from=production-dependencies /build/node_modules ./node_modules
COPY --from=build /build/dist ./dist
COPY bin ./bin
RUN ln -s /app/bin/imagepull.js /usr/local/bin/imagepull
# Numeric, so that Kubernetes' runAsNonRoot can verify it (uid 1000 is the base image's `node` user).
USER 1000:1000
EXPOSE 8080
# The V8 flags of `npm start` (package.json; test/unit/dockerfile.test.ts keeps them in step): the heap flags keep the
# resident set under ~250 MB during alert storms (README, Performance); --expose-gc lets the bot collect right after
# it refuses a large message (src/shared/collect.ts), instead of after tens of MB more of them; --optimize-for-size
# has V8 favour memory over speed (with four streams a storm peaked ~25 MB lower, for ~50% more CPU while draining).
CMD ["node", "--max-old-space-size=160", "--max-semi-space-size=2", "--expose-gc", "--optimize-for-size", "dist/cli/main.js", "serve"]
