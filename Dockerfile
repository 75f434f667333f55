# Shoal image: shoal-router, shoal-metadata, shoal-storage-node, shoal-autoscaler, the shoalctl
# operator CLI and Debian's nats-server in
# one slim, non-root runtime image (the chart picks the program per workload).
#   make images            # docker build -t shoal:0.1.0 -t shoal:dev .
# Build stage: Debian bookworm with the C++ toolchain and -dev packages from the same script
# the README's `make` uses (scripts/install-deps.sh, build profile only).
FROM debian:bookworm AS build
WORKDIR /src
COPY scripts/install-deps.sh scripts/install-deps.sh
RUN SHOAL_DEPS=build bash scripts/install-deps.sh && rm -rf /var/lib/apt/lists/*
COPY . .
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
 && cmake --build /build --target shoal-router shoal-metadata shoal-storage-node \
      shoal-autoscaler shoalctl \
 && install -D -s -m 0755 /build/services/router/shoal-router /out/shoal-router \
 && install -D -s -m 0755 /build/services/metadata/shoal-metadata /out/shoal-metadata \
 && install -D -s -m 0755 /build/services/storage-node/shoal-storage-node /out/shoal-storage-node \
 && install -D -s -m 0755 /build/services/autoscaler/shoal-autoscaler /out/shoal-autoscaler \
 && install -D -s -m 0755 /build/services/shoalctl/shoalctl /out/shoalctl

# Runtime stage: only the shared libraries the binaries link (RocksDB is linked statically, its
# compression libraries are not; tests/k8s/test_image.py checks this list against `ldd` of
# the built binaries) and nats-server.
FROM debian:bookworm-slim AS runtime
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates nats-server \
      libcaf-core0.17 libnats3.4 libprotobuf32 libprotobuf-c1 libspdlog1.10 libfmt9 libssl3 \
      libsnappy1v5 liblz4-1 libzstd1 libbz2-1.0 zlib1g \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 10001 shoal \
 && useradd --uid 10001 --gid shoal --no-create-home --home-dir /data --shell /usr/sbin/nologin shoal \
 && install -d -o shoal -g shoal /data
COPY --from=build /out/ /usr/local/bin/
USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
# 8000 DynamoDB API (router), 9100 admin (/metrics, /healthz, /readyz), 4222/6222/8222 NATS
EXPOSE 8000 9100 4222 6222 8222
CMD ["shoal-router"]
