# syntax=docker/dockerfile:1
# The Node base pinned by digest (the multi-arch index of node:24.11.1-bookworm-slim): a rebuild gets
# the same bytes, and a retagged upstream image cannot slip in. Renovate/Dependabot bump both parts.
ARG NODE_IMAGE=node:24.11.1-bookworm-slim@sha256:48abc13a19400ca3985071e287bd405a1d99306770eb81d61202fb6b65cf0b57

# Build stage: compile TypeScript with the dev dependencies and bundle the operator (esbuild): one
# self-contained file, so the final stage needs no node_modules at all. The SBOM lists what the
# bundle holds: the production dependencies of the lockfile (CycloneDX).
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY resources/ resources/
COPY operator/ operator/
COPY e2e/ e2e/
RUN npm run build
RUN npm sbom --omit=dev --sbom-format=cyclonedx --sbom-type=application > dist/sbom.cdx.json

# The runtime's files: node, the shared libraries it links (ldd) and a passwd entry for its user —
# as distroless images hold them. No shell, no npm, no package manager reach the final stage.
FROM ${NODE_IMAGE} AS runtime
RUN mkdir -p /runtime/etc && \
    for f in /usr/local/bin/node $(ldd /usr/local/bin/node | grep -o '/[^ ]*'); do cp --parents -L "$f" /runtime; done && \
    echo 'operator:x:1000:1000:secrets-rotation-operator:/app:/nonexistent' > /runtime/etc/passwd && \
    echo 'operator:x:1000:' > /runtime/etc/group

# Final stage: node and the bundle (+ its SBOM at /app/sbom.cdx.json), non-root.
FROM scratch
COPY --from=runtime /runtime/ /
ENV PATH=/usr/local/bin NODE_ENV=production
WORKDIR /app
COPY --from=build /src/dist/operator.mjs /src/dist/operator.mjs.map /src/dist/sbom.cdx.json ./
USER 1000:1000
EXPOSE 8080
# No --enable-source-maps: it holds the parsed map in memory, +43 MiB idle (measured by the bench). The bundle
# keeps its identifiers, so stack traces name their functions; operator.mjs.map is here to map
# positions after the fact. A 1 MiB young generation: 6 MiB less idle RSS with 50 mappings, 80 MiB
# less with 5,000 after their cold start, for a few CPU-seconds more in that cold start.
ENTRYPOINT ["node", "--max-semi-space-size=1", "operator.mjs"]
