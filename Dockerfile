# kcp-mc: the CLI: `run <controller>` for the bundled controllers (or a mounted module), and the reference server.
# Build stage: compile TypeScript with the locked dependency tree.
FROM node:22-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json ./
COPY src ./src
COPY test ./test
COPY hack ./hack
COPY examples ./examples
COPY controllers ./controllers
RUN npx tsc -p tsconfig.json && npm prune --omit=dev --ignore-scripts

# Runtime: distroless Node 22 LTS, non-root, no shell.
FROM gcr.io/distroless/nodejs22-debian12:nonroot
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist/src ./dist/src
COPY --from=build /src/dist/controllers ./dist/controllers
# The bundled *-example controllers share their code with examples/.
COPY --from=build /src/dist/examples ./dist/examples
USER 65532:65532
EXPOSE 6443 8080 8081
ENTRYPOINT ["/nodejs/bin/node", "/app/dist/src/cli/main.js"]
CMD ["server", "--bind", "0.0.0.0", "--root-dir", "/tmp/kcp"]
