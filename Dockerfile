# Build stage: one release binary. Swagger UI is vendored by the crate, so
# the build needs crates.io and nothing else.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY migrations ./migrations
RUN cargo build --release --locked --bin newsroom

# Runtime stage: no libpq needed (the PostgreSQL client is pure Rust).
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --no-create-home newsroom
COPY --from=build /src/target/release/newsroom /usr/local/bin/newsroom
USER newsroom
ENV NEWSROOM_ADDR=0.0.0.0:8080 \
    RUST_LOG=info
EXPOSE 8080
# DATABASE_URL must be set: the container does not run its own PostgreSQL.
# Migrations are applied at start, under an advisory lock.
ENTRYPOINT ["newsroom"]
CMD ["serve"]
