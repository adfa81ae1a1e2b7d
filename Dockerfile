# syntax=docker/dockerfile:1
# Multi-stage build: compile TypeScript with the dev toolchain, ship only the compiled code and production
# dependencies on Node 24 LTS, as a non-root user. No credentials are baked in: on GKE use Workload Identity.

FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:24-bookworm-slim
LABEL org.opencontainers.image.title="imagepull-bot" \
      org.opencontainers.image.description="Slack chat-ops bot that diagnoses and fixes GKE ImagePullBackOff" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build --chown=node:node /app/package.json ./
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
USER node
EXPOSE 8080
# Heap limits as in `npm start`: keeps the resident set under ~250 MB during alert storms (README, Performance).
CMD ["node", "--max-old-space-size=160", "--max-semi-space-size=2", "dist/cli/main.js", "serve"]
