#!/usr/bin/env bash
# Installs everything Shoal's build, tests and local fleet need, from Debian packages and PyPI.
# Idempotent: a second run installs nothing and takes a second or two.
set -euo pipefail

# What the C++ build needs (the image build stage installs only these: SHOAL_DEPS=build).
BUILD_DEBS=(
  build-essential cmake ninja-build pkg-config git ca-certificates
  libcaf-dev
  libnats-dev nats-server
  libprotobuf-dev protobuf-compiler
  librocksdb-dev
  libgtest-dev libgmock-dev googletest
  libboost-dev libboost-system-dev
  rapidjson-dev
  libssl-dev
  libspdlog-dev libfmt-dev
  libcli11-dev
  zlib1g-dev
)
DEBS=("${BUILD_DEBS[@]}")
if [ "${SHOAL_DEPS:-all}" != build ]; then
  DEBS+=(
    curl procps iproute2
    clang libclang-rt-14-dev
    python3 python3-pip python3-venv
    prometheus
  )
  # prometheus: the dashboard check (tests/dashboards) scrapes a local fleet with it.
  # DynamoDB Local (scripts/dynamodb-local.sh, make conformance-ddblocal) needs Java 17+ and
  # Maven; a java or mvn already on PATH (from any package or none) is used as it is.
  command -v java >/dev/null 2>&1 || DEBS+=(default-jre-headless)
  command -v mvn >/dev/null 2>&1 || DEBS+=(maven)
  # bench/compare.py's peers: dynalite runs on Node.js (npm registry), moto in a venv.
  command -v node >/dev/null 2>&1 || DEBS+=(nodejs)
  command -v npm >/dev/null 2>&1 || DEBS+=(npm)
fi

missing=()
for p in "${DEBS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "install-deps: Debian packages present"
fi

if [ "${SHOAL_DEPS:-all}" = build ]; then exit 0; fi

# Python tools: use whichever python3 is first on PATH (the one the tests run with).
pymissing=()
python3 -c 'import boto3' 2>/dev/null || pymissing+=(boto3)
python3 -c 'import pytest' 2>/dev/null || pymissing+=(pytest)
python3 -c 'import yaml' 2>/dev/null || pymissing+=(pyyaml)
command -v aws >/dev/null 2>&1 || pymissing+=(awscli)
if [ ${#pymissing[@]} -gt 0 ]; then
  echo "install-deps: installing Python packages: ${pymissing[*]}"
  python3 -m pip install -q "${pymissing[@]}" 2>/dev/null \
    || python3 -m pip install -q --break-system-packages "${pymissing[@]}"
  hash -r
else
  echo "install-deps: Python packages present"
fi
