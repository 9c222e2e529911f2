# idflow's worker, gateway and CLI in one image. Any command (`worker`, `gateway`,
# `definitions apply`, `tokens create`, …) is the container's argument. Used by
# docker-compose.temporal.yml and the Helm chart in deploy/helm/idflow (docs/deploy.md).
#
# - Runs as the image's `node` user, by number (1000), so Kubernetes' runAsNonRoot can check it.
# - tini is PID 1: it forwards SIGTERM to node and reaps children. `idflow worker` and
#   `idflow gateway` install SIGTERM handlers and drain on their own; a one-off command
#   (`definitions apply`, `audit prune`) has none, and node as PID 1 would ignore the signal.
# - The workflow bundle is built here, into IDFLOW_DATA_DIR/bundle, so a worker starts without
#   webpack and never writes to the image: the root filesystem can be read-only (mount a
#   writable /tmp, where tsx keeps its compile cache).
# - No HEALTHCHECK: what is healthy differs by command (the gateway's /readyz on IDFLOW_PORT, a
#   worker's /healthz on IDFLOW_METRICS_PORT only when that is set, nothing for a one-off
#   command). The compose file and the Helm chart set one per service.
FROM node:20-slim
RUN apt-get update \
  && apt-get install -y --no-install-recommends tini \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY bin ./bin
COPY src ./src
COPY workflows ./workflows
COPY activities ./activities
COPY migrations ./migrations
COPY definitions ./definitions
COPY tsconfig.json idflow.schema.json ./
ENV IDFLOW_DATA_DIR=/var/lib/idflow
# The bundle's cache key hashes src/, workflows/ and package-lock.json: built after they are
# copied, it is the one the worker looks for.
RUN mkdir -p /var/lib/idflow \
  && node bin/idflow.js bundle \
  && chown -R 1000:1000 /var/lib/idflow \
  && rm -rf /tmp/tsx-*
USER 1000:1000
ENTRYPOINT ["/usr/bin/tini", "--", "node", "bin/idflow.js"]
CMD ["--help"]
