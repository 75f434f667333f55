# Shoal: the two commands that matter are `make run` and `make test`.
BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc)
PYTHON ?= python3
ZONES ?= local   # `make run ZONES=netns`: each zone in its own network namespace (root)

.PHONY: all deps configure build run stop status test unit integration e2e conformance-ddblocal clean

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

clean:
	rm -rf $(BUILD_DIR)
