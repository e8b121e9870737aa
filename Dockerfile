# syntax=docker/dockerfile:1
# Question-dedup service on the official Bun image. Build: docker build -t question-dedup .
# Run:   docker run -p 5000:5000 -v dedup-data:/app/data question-dedup
FROM oven/bun:1.4.5-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only; Bun itself comes from the base image, not from npm.
RUN bun install --production --frozen-lockfile --ignore-scripts || bun install --production --ignore-scripts

FROM oven/bun:1.4.5-slim
WORKDIR /app
ENV NODE_ENV=production \
    PORT=5000 \
    DATABASE_URL=sqlite:/app/data/dedup.sqlite
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json bunfig.toml ./
COPY src ./src
COPY workers ./workers
# The image's unprivileged user owns the data folder; mount a volume there to keep the bank.
RUN mkdir -p /app/data && chown -R bun:bun /app/data
USER bun
VOLUME ["/app/data"]
EXPOSE 5000
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["bun", "-e", "const r = await fetch('http://127.0.0.1:' + (process.env.PORT || 5000) + '/api/health'); process.exit(r.ok ? 0 : 1)"]
# Bun runs as PID 1 and receives SIGTERM directly, so the graceful shutdown path runs.
CMD ["bun", "src/main.ts"]
