# mau: one image for every command (consume Deployment, partitions/report CronJobs, db migrate init container).
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY bin ./bin
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/oclif.manifest.json ./
COPY package.json ./
COPY bin ./bin
COPY migrations ./migrations
COPY proto ./proto
USER node
ENTRYPOINT ["node", "/app/bin/run.js"]
CMD ["consume"]
