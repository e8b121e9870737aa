# Question-dedup service on the official Bun image.
# Build: docker build -t question-dedup .
#        podman/buildah: add --format docker, or the default OCI format drops the HEALTHCHECK
# Run:   docker run -p 5000:5000 -v dedup-data:/app/data question-dedup
FROM oven/bun:1.4.5-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies at exactly package-lock.json's versions (Bun reads npm's lockfile);
# a package.json the lockfile does not match fails the build instead of resolving afresh.
# Bun itself comes from the base image, not from npm.
RUN bun install --production --frozen-lockfile --ignore-scripts

FROM oven/bun:1.4.5-slim
WORKDIR /app
# SHUTDOWN_GRACE_MS stays below `docker stop`'s 10 s: running groups get 8 s to finish and be
# saved, and the service still closes its database before the SIGKILL. Give a longer
# stop_grace_period (compose) or terminationGracePeriodSeconds (Kubernetes) and raise both together.
ENV NODE_ENV=production \
    PORT=5000 \
    DATABASE_URL=sqlite:/app/data/dedup.sqlite \
    SHUTDOWN_GRACE_MS=8000
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json bunfig.toml ./
COPY src ./src
COPY workers ./workers
# The data folder belongs to the image's user and to group 0, writable by both: the image also
# runs under an arbitrary uid in group 0 (OpenShift, `docker run --user 12345:0`).
RUN mkdir -p /app/data && chown -R bun /app/data && chgrp -R 0 /app/data && chmod -R g=u /app/data
USER bun
VOLUME ["/app/data"]
EXPOSE 5000
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["bun", "-e", "const r = await fetch('http://127.0.0.1:' + (process.env.PORT || 5000) + '/api/health'); process.exit(r.ok ? 0 : 1)"]
# Bun runs as PID 1 and receives SIGTERM directly, so the graceful shutdown path runs.
CMD ["bun", "src/main.ts"]
