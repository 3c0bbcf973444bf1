# One image for every entrypoint: `ragops serve|api|worker|operator|backup|...`.
# Built by the delivery pipeline (no Docker engine on the development machines).
FROM node:20-slim AS ui
WORKDIR /ui
COPY services/chat-ui/package.json services/chat-ui/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY services/chat-ui ./
RUN npm run build

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY services ./services
COPY operator ./operator
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 ragops && mkdir /data && chown ragops /data
COPY --from=build /install /usr/local
COPY --from=ui /ui/dist /opt/ragops/chat-ui
USER 10001
ENV RAGOPS_DATA_DIR=/data RAGOPS_UI_DIR=/opt/ragops/chat-ui
VOLUME ["/data"]
EXPOSE 8000
ENTRYPOINT ["ragops"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
