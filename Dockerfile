# syntax=docker/dockerfile:1
# Build stage: compile TypeScript with the dev dependencies and bundle the operator (esbuild): one
# self-contained file, so the final stage needs no node_modules at all.
FROM node:24.11.1-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY resources/ resources/
COPY operator/ operator/
COPY e2e/ e2e/
RUN npm run build

# Final stage: the bundle only, non-root, no shell tools needed.
FROM node:24.11.1-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /src/dist/operator.mjs /src/dist/operator.mjs.map ./
USER 1000:1000
EXPOSE 8080
ENTRYPOINT ["node", "--enable-source-maps", "operator.mjs"]
