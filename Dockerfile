# syntax=docker/dockerfile:1
# Node 26 is the active LTS (since Oct 2026); CI runs the tests on Node 20 and 26 and
# builds and smoke-tests this file as is (npm run test:image, scripts/test-image.sh).
ARG NODE_IMAGE=node:26-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# The audit journal's volume mount point, owned by the user the gate runs as (a new named
# volume takes the ownership of the directory it is mounted on).
RUN mkdir -p /var/lib/liq-gate/journal /var/lib/liq-gate/archive && chown -R node:node /var/lib/liq-gate
USER node
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/health/live').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
STOPSIGNAL SIGTERM
CMD ["node", "dist/src/server.js"]
