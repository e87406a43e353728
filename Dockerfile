# Multi-stage build: a static binary on distroless, running as non-root.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/hapa ./cmd/hapa

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/hapa /usr/local/bin/hapa
WORKDIR /var/lib/hapa
ENV HOST=0.0.0.0 PORT=8000 DATABASE_URL=sqlite:///var/lib/hapa/hapa.db
EXPOSE 8000
USER nonroot:nonroot
ENTRYPOINT ["/usr/local/bin/hapa"]
CMD ["serve"]
