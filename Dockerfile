# The operator image (what DaskOperator's `image` prop points at). Built on machines without a registry or container
# engine by `bash hack/images/build.sh operator` (buildah, chroot isolation, a local node:24-slim stand-in; see
# docs/images.md). With an engine: docker build -t <registry>/dask-operator:0.1.0 .
FROM node:24-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# npm workspaces: lib/ is the cdk8s-dask constructs package
COPY lib/package.json lib/
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY lib lib
COPY operator operator
COPY client client
COPY imports imports
COPY scripts scripts
COPY examples examples
COPY main.ts ./
RUN npx tsc -p tsconfig.json && npm prune --omit=dev

FROM node:24-slim
WORKDIR /app
COPY --from=build /src/node_modules node_modules
COPY --from=build /src/build build
COPY package.json ./
# Plugins: RUN npm install <plugin> here (or in an image built FROM this one) and pass --plugins=<plugin>.
USER 1000:1000
ENTRYPOINT ["node", "build/operator/main.js"]
