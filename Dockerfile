# syntax=docker/dockerfile:1
# One image for every entrypoint: `ragops serve|api|worker|operator|backup|restore|reindex`.
# Build it with scripts/build-image.sh (Docker, or podman/buildah where there is no Docker
# engine: it then builds the base images from Debian packages and passes them below).
# The image runs as uid 10001 with a read-only root file system: it writes only to /data (the
# data directory) and /tmp.

# The official images by default; build-image.sh passes local ones where no registry is reachable.
ARG PYTHON_IMAGE=python:3.11-slim
ARG NODE_IMAGE=node:20-slim

# The chat page, built into the package's static/chat (vite.config.ts).
FROM ${NODE_IMAGE} AS ui
# A CA bundle the build mounts read-only (a TLS-intercepting proxy); empty: the image's own.
ARG BUILD_CA_BUNDLE=
WORKDIR /src/services/chat-ui
COPY services/chat-ui/package.json services/chat-ui/package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \
    if [ -n "$BUILD_CA_BUNDLE" ]; then export NODE_EXTRA_CA_CERTS="$BUILD_CA_BUNDLE"; fi \
    && npm ci --no-audit --no-fund --prefer-offline
COPY services/chat-ui ./
RUN npm run build && test -f ../ragops_api/static/chat/index.html

# The dependencies: a venv in /opt/venv, copied whole into the final stage (same base, so its
# interpreter links resolve there too). pip runs from a venv of its own (`pip --python`), so the
# app's venv never holds pip or setuptools. pip's cache is a build cache mount, never a layer.
FROM ${PYTHON_IMAGE} AS deps
ARG BUILD_CA_BUNDLE=
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 PIP_PROGRESS_BAR=off PIP_DEFAULT_TIMEOUT=180
# ragops itself goes to /opt/ragops (below), on the venv's path through a .pth file.
RUN python3 -m venv /opt/pip \
    && python3 -m venv --without-pip /opt/venv \
    && echo /opt/ragops > "$(/opt/venv/bin/python -c 'import sysconfig; print(sysconfig.get_path("purelib"))')/ragops.pth"
WORKDIR /src
COPY pyproject.toml ./
# numpy's own test suites go (never imported).
RUN --mount=type=cache,target=/root/.cache/pip \
    if [ -n "$BUILD_CA_BUNDLE" ]; then export PIP_CERT="$BUILD_CA_BUNDLE"; fi \
    && python3 -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]))' > /tmp/requirements.txt \
    && /opt/pip/bin/pip --python /opt/venv/bin/python install -r /tmp/requirements.txt \
    && find /opt/venv -depth -type d -name tests -path '*/numpy/*' -exec rm -rf {} +

# ragops itself, in a directory of its own: a change to the sources makes a new layer of a few
# MB in the final image, while the dependencies' layer (hundreds of MB) stays the same.
FROM deps AS app
COPY setup.py README.md ./
COPY services ./services
COPY operator ./operator
COPY --from=ui /src/services/ragops_api/static/chat ./services/ragops_api/static/chat
# The page is already built (above): setup.py must not look for npm.
RUN --mount=type=cache,target=/root/.cache/pip \
    if [ -n "$BUILD_CA_BUNDLE" ]; then export PIP_CERT="$BUILD_CA_BUNDLE"; fi \
    && RAGOPS_SKIP_UI_BUILD=1 /opt/pip/bin/pip --python /opt/venv/bin/python install --no-deps --target /opt/ragops . \
    && /opt/venv/bin/python -c 'import ragops_api, pathlib, sys; page = pathlib.Path(ragops_api.__file__).parent / "static/chat/index.html"; sys.exit(0 if page.is_file() else "chat page missing")'

FROM ${PYTHON_IMAGE}
RUN useradd --uid 10001 --user-group --no-create-home --home-dir /data --shell /usr/sbin/nologin ragops \
    && mkdir /data && chown 10001:10001 /data
COPY --from=deps /opt/venv /opt/venv
COPY --from=app /opt/ragops /opt/ragops
# Bytecode was compiled at install time; nothing may write it at run time (read-only root).
ENV PATH=/opt/ragops/bin:/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    RAGOPS_DATA_DIR=/data
USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8000
ENTRYPOINT ["ragops"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
# Last: the revision changes with every commit; the layers above are re-used across commits.
ARG VERSION=unknown
ARG REVISION=unknown
ARG SOURCE=unknown
LABEL org.opencontainers.image.title="ragops" \
      org.opencontainers.image.description="RAGOps: the Kubernetes operator, API, ingestion worker and maintenance jobs" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="${SOURCE}"
