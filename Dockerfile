# mau: one image for every command (consume and serve Deployments, the CronJobs, db migrate as an init container).
# scripts/stage-image.mjs follows this file step by step without a container engine (test/deploy/image.int.test.ts).
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json npm-shrinkwrap.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
# npm run build goes through scripts/node22.sh (a no-op on this image's Node 22).
COPY scripts/sort-manifest.mjs scripts/build-info.mjs scripts/node.sh scripts/node22.sh ./scripts/
COPY src ./src
COPY bin ./bin
# The context has no .git: the build records this commit (--build-arg MAU_BUILD_COMMIT=...) for mau --version.
ARG MAU_BUILD_COMMIT=
RUN npm run build && npm prune --omit=dev

FROM node:22-bookworm-slim
ENV NODE_ENV=production
# User 10001 has no /etc/passwd entry: without these, oclif asks the passwd database for the user's shell
# and home, and the process dies with "uv_os_get_passwd returned ENOENT". /tmp is the pods' emptyDir.
ENV SHELL=/bin/sh
ENV HOME=/tmp
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/oclif.manifest.json ./
COPY package.json ./
COPY bin ./bin
COPY migrations ./migrations
COPY proto ./proto
# Numeric, so that the kubelet can check runAsNonRoot; the manifests run as the same 10001.
USER 10001:10001
ENTRYPOINT ["node", "/app/bin/run.js"]
CMD ["consume"]
