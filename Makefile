# Shoal: the two commands that matter are `make run` and `make test`.
BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc)
PYTHON ?= python3
ZONES ?= local   # `make run ZONES=netns`: each zone in its own network namespace (root)

.PHONY: all deps configure build run stop status test unit integration e2e conformance-ddblocal \
        images k8s-tools chart-test dashboards-test bench-compare clean

all: build

deps:
	@bash scripts/install-deps.sh

configure: deps
	@cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) >/dev/null

build: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS)

# Starts the local fleet (nats-server, metadata, storage nodes n1..n3 in zones a/b/c, router
# on :8000) and returns once the router answers.
run: build
	@SHOAL_ZONES=$(strip $(ZONES)) SHOAL_BUILD_DIR=$(abspath $(BUILD_DIR)) bash scripts/fleet.sh start

stop:
	@SHOAL_ZONES=$(strip $(ZONES)) bash scripts/fleet.sh stop

status:
	@bash scripts/fleet.sh status

test: build
	@bash scripts/test.sh $(BUILD_DIR)

unit: build
	@cd $(BUILD_DIR) && ctest -L unit --output-on-failure -j $(JOBS)

integration: build
	@cd $(BUILD_DIR) && ctest -L integration --output-on-failure

e2e: build
	@bash scripts/test.sh $(BUILD_DIR) e2e

# Runs the e2e suite against DynamoDB Local (Amazon's emulator; fetched from Maven Central once
# into .cache/) to check the suite's expectations against an independent implementation.
# Tests marked xfail_ddblocal are where DynamoDB Local is known to differ from AWS.
DDB_LOCAL_PORT ?= 18001
conformance-ddblocal: deps
	@bash scripts/dynamodb-local.sh start $(DDB_LOCAL_PORT)
	@rc=0; DDB_TARGET=ddblocal $(PYTHON) -m pytest -q tests/e2e --url http://127.0.0.1:$(DDB_LOCAL_PORT) \
	  --target ddblocal -p no:cacheprovider -rxXs || rc=$$?; \
	bash scripts/dynamodb-local.sh stop $(DDB_LOCAL_PORT); exit $$rc

# The container image (Dockerfile: bookworm build stage, slim non-root runtime). Needs a
# Docker engine; the README shows how to load it into kind or minikube.
IMAGE ?= shoal
IMAGE_TAG ?= dev
images:
	@docker info >/dev/null 2>&1 || { echo "make images: no Docker engine answers here (docker info failed)"; exit 1; }
	docker build -t $(IMAGE):$(IMAGE_TAG) -t $(IMAGE):$$(sed -n 's/^appVersion: *"\(.*\)"/\1/p' charts/shoal/Chart.yaml) .

# Helm, helm-unittest, kwok and the Kubernetes control-plane binaries, built once with Go into
# .cache/k8s-tools (scripts/k8s-tools.sh).
k8s-tools:
	@bash scripts/k8s-tools.sh

# The chart checks: helm lint --strict, helm template, helm-unittest, and a real control plane
# (etcd, kube-apiserver, controller-manager, scheduler, KWOK nodes in three zones) that
# installs the chart with --wait and drains a node against the PodDisruptionBudget.
chart-test: deps k8s-tools
	@$(PYTHON) -m pytest -q -p no:cacheprovider tests/k8s

# Starts a fleet and a real Prometheus, generates load and evaluates every dashboard query.
dashboards-test: build
	@SHOAL_BUILD_DIR=$(abspath $(BUILD_DIR)) $(PYTHON) -m pytest -q -p no:cacheprovider tests/dashboards

# Shoal (local fleet, 3 replicas; and its no-op-storage ceiling) against DynamoDB Local,
# dynalite and moto with the native driver, one system at a time; writes the "Shoal vs peers"
# section of BENCHMARKS.md. The peers are installed once under .cache/peers/
# (scripts/peers.sh). Run it on an idle machine.
DURATION ?= 20
RECORDS ?= 20000
CONNECTIONS ?= 32
bench-compare: build
	@$(PYTHON) bench/compare.py --build-dir $(abspath $(BUILD_DIR)) --duration $(DURATION) \
	  --records $(RECORDS) --connections $(CONNECTIONS)

clean:
	rm -rf $(BUILD_DIR)
