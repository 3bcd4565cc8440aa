# syntax=docker/dockerfile:1
# Build stage: compile TypeScript with the dev dependencies.
FROM node:24.11.1-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY resources/ resources/
COPY operator/ operator/
COPY e2e/ e2e/
RUN npx tsc -p . && rm -rf dist/e2e dist/**/*.test.js

# Production dependencies only.
FROM node:24.11.1-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# Final stage: compiled JavaScript and production node_modules, non-root, no shell tools needed.
FROM node:24.11.1-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist/operator ./dist/operator
COPY --from=build /src/dist/resources ./dist/resources
COPY package.json ./
USER 1000:1000
EXPOSE 8080
ENTRYPOINT ["node", "dist/operator/main.js"]
