# syntax=docker/dockerfile:1

# Build: a static binary (CGO_ENABLED=0; the SQLite driver is pure Go), so the runtime image needs no libc.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG VERSION=dev
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/roumu ./cmd/roumu
# The data directory (keyring, SQLite file), private to the service user: a named volume mounted here
# starts with this owner and mode.
RUN mkdir -m 0700 /out/var /out/backups

# Runtime: distroless, no shell or package manager, running as the unprivileged "nonroot" user (65532).
FROM gcr.io/distroless/static-debian12:nonroot
WORKDIR /app
COPY --from=build /out/roumu /usr/local/bin/roumu
COPY --from=build --chown=65532:65532 /out/var /app/var
COPY --from=build --chown=65532:65532 /out/backups /app/backups
USER 65532:65532
ENV ROUMU_SECURITY_KEYRING_FILE=/app/var/keyring.json \
    ROUMU_LOG_FORMAT=json
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/roumu"]
CMD ["serve", "--addr", "0.0.0.0:8080"]
