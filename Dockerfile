# Mandate authorization server: `mandate serve` on Node 24, as the unprivileged `node` user, with only the server's
# production dependencies. Build: `docker build -t mandate .`; run several behind a proxy: compose.yaml;
# everything else: docs/deployment.md. .ci/run executes this file's `RUN npm install` and `CMD` lines on a clean
# checkout and probes /readyz, so keep each of them on one line.
FROM node:24-bookworm-slim

WORKDIR /app
ENV NODE_ENV=production

# The manifests first: the dependency layer is rebuilt only when they change.
COPY package.json package-lock.json ./
COPY packages/protocol/package.json packages/protocol/
COPY packages/server/package.json packages/server/
# `npm install`, not `npm ci`: the lock has no entry for an optional, Windows-only dependency of a dev tool (vite,
# through the MCP Inspector) that npm skipped here, and `npm ci` refuses that gap even with --omit=dev. The lock still
# pins every version installed.
RUN npm install --omit=dev --workspace @mandate/server --no-audit --no-fund && npm cache clean --force

COPY packages/protocol packages/protocol
COPY packages/server/bin packages/server/bin
COPY packages/server/src packages/server/src
# The launcher serves the TypeScript as JavaScript stripped once into a cache in the package (see
# packages/server/bin/stripped-cache.js: the server then never loads Node's TypeScript parser, ~30 MB less resident
# memory); filled here, while the directory is writable, so that the first start is as small as every other.
RUN node packages/server/bin/mandate.js --help > /dev/null

# /data holds the SQLite database and the generated KEK of a single-instance deployment; with PostgreSQL and
# MANDATE_KEK set it stays empty.
RUN mkdir /data && chown node:node /data
VOLUME /data
USER node

ENV MANDATE_HOST=0.0.0.0 PORT=8787 MANDATE_DATABASE_URL=sqlite:/data/mandate.db MANDATE_KEK_FILE=/data/kek
EXPOSE 8787
# Ready = the store answers and a signing key is loaded (GET /readyz); draining instances report 503.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 CMD ["node", "packages/server/bin/readyz.js"]
# SIGTERM drains the requests under way and commits the audit trail (MANDATE_SHUTDOWN_GRACE, default 10 s).
STOPSIGNAL SIGTERM
CMD ["node", "packages/server/bin/mandate.js", "serve"]
