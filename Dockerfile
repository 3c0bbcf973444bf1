# One image for every entrypoint: `ragops serve|api|worker|operator|backup|...`.
# Built by the delivery pipeline (no Docker engine on the development machines).
# The chat page is built here, in Node's image, into the package's static/chat (vite.config.ts).
FROM node:20-slim AS ui
WORKDIR /src/services/chat-ui
COPY services/chat-ui/package.json services/chat-ui/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY services/chat-ui ./
RUN npm run build

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml setup.py README.md ./
COPY services ./services
COPY operator ./operator
# Copied after the sources, so it is newer than them: setup.py sees a fresh build, needs no npm,
# and the install puts the page in the package, where `ragops serve` serves it at `/`.
COPY --from=ui /src/services/ragops_api/static/chat ./services/ragops_api/static/chat
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 ragops && mkdir /data && chown ragops /data
COPY --from=build /install /usr/local
USER 10001
ENV RAGOPS_DATA_DIR=/data
VOLUME ["/data"]
EXPOSE 8000
ENTRYPOINT ["ragops"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
