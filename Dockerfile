# kcp-mc: the CLI (`run <controller>` for the bundled controllers or a mounted module, `server`).
#
#   docker build -t kcp-mc .
#   docker run --rm kcp-mc run apiexport-example --kubeconfig /etc/kcp/kubeconfig --endpointslice <export>
#
# Probes (see examples/deploy): liveness GET /healthz and readiness GET /readyz on the health probe
# address (--health-probe-bind-address, default :8081); metrics on :8080 (/metrics).

# Build stage: compile with the dev dependencies, then pack exactly what `npm publish` would ship.
FROM node:22-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json README.md ./
COPY src ./src
COPY controllers ./controllers
COPY examples ./examples
COPY hack ./hack
COPY test ./test
RUN npx tsc -p tsconfig.json && npm pack --pack-destination /pkg && mkdir /app \
    && tar -xzf /pkg/kcp-multicluster-provider-*.tgz -C /app --strip-components=1 \
    && cp package-lock.json /app/

# Runtime: the packed package with production dependencies only (the same steps
# test/e2e/production-install.test.ts runs), as the non-root `node` user.
FROM node:22-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force \
    && chmod +x dist/src/cli/main.js && ln -s /app/dist/src/cli/main.js /usr/local/bin/kcp-mc
USER node
EXPOSE 8080 8081 6443
# Exec form: node runs as PID 1 and gets SIGTERM itself; kcp-mc handles it (graceful shutdown, exit 0).
ENTRYPOINT ["kcp-mc"]
CMD ["--help"]
