# syntax=docker/dockerfile:1
# Multi-stage build: a static binary on distroless, running as nonroot (uid 65532).
# deploy/image_test.go checks the invariants of this file and starts `hapa serve` with
# exactly the ENV below (docs/kubernetes.md, "The container image").
FROM golang:1.26.8-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/hapa ./cmd/hapa
# The data directory is made here: the runtime image has no shell to make it, and a
# directory that WORKDIR creates belongs to root, so nonroot could not write the
# SQLite file (or its -wal and -shm files) in it.
RUN mkdir -p /out/data && chown 65532:65532 /out/data && chmod 0750 /out/data

# Digest of :nonroot as of 2026-08-26; update both together.
FROM gcr.io/distroless/static-debian12:nonroot@sha256:afa5c872c891853ca7fcf1f12c3edb23f7eeef36189728842dd51042ff57f7ab
COPY --from=build /out/hapa /usr/local/bin/hapa
COPY --from=build --chown=65532:65532 /out/data /var/lib/hapa
WORKDIR /var/lib/hapa
# Four slashes: an absolute path (sqlite:///x is relative to the working directory).
ENV HOST=0.0.0.0 PORT=8000 DATABASE_URL=sqlite:////var/lib/hapa/hapa.db
VOLUME ["/var/lib/hapa"]
EXPOSE 8000
USER nonroot:nonroot
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 CMD ["/usr/local/bin/hapa", "health"]
ENTRYPOINT ["/usr/local/bin/hapa"]
CMD ["serve"]
