# One image for every Loopline service; `SERVICE` picks which one a container runs.
# Services run from their TypeScript sources through SWC, exactly as locally and in tests.
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
COPY libs ./libs
COPY services ./services
COPY tools ./tools
# npm install (from the lockfile): npm ci refuses chdb's unpublished optional platform builds.
RUN npm install --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
ARG SERVICE
ENV NODE_ENV=production \
    LOOPLINE_SERVICE=${SERVICE} \
    LOOPLINE_HOST=0.0.0.0 \
    SWC_NODE_PROJECT=/app/tsconfig.json
WORKDIR /app
COPY --from=deps /app /app
COPY tsconfig.json tsconfig.base.json ./
COPY proto ./proto
USER node
# The shell form expands LOOPLINE_SERVICE at start; exec keeps node as PID 1 for clean SIGTERM.
CMD exec node --require @swc-node/register "services/${LOOPLINE_SERVICE}/src/main.ts"
