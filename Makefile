# signet build, test and code generation. Every target works from a fresh
# clone as long as Go (the version go.mod names) is on PATH.

SHELL := /usr/bin/env bash -o errexit -o nounset -o pipefail
.DEFAULT_GOAL := all

OUTPUT   := _output
BIN_DIR  := $(OUTPUT)/bin
STAGING  := staging/src/signet.dev
MODULES  := . $(STAGING)/api $(STAGING)/client-go
COMMANDS := $(notdir $(patsubst %/,%,$(wildcard cmd/*/)))
# Unit packages are everything but the integration tier and the e2e suite
# (test/e2e itself); the e2e infrastructure under test/e2e/... has unit tests.
UNIT_PKGS = $$(go list ./... | grep -v -e '/test/integration' -e '/test/e2e$$')
GOTESTFLAGS ?=

.PHONY: all
all: ## Build every cmd/* into _output/bin/
	@mkdir -p $(BIN_DIR)
	@if [ -z "$(COMMANDS)" ]; then echo "no commands under cmd/ yet"; fi
	@for cmd in $(COMMANDS); do \
		echo "go build -o $(BIN_DIR)/$$cmd ./cmd/$$cmd"; \
		go build -o $(BIN_DIR)/$$cmd ./cmd/$$cmd; \
	done
	go build ./...

.PHONY: test
test: ## Unit tests: all packages of all modules, incl. round-trip fuzzing and validation tables
	go test $(GOTESTFLAGS) $(UNIT_PKGS)
	cd $(STAGING)/api && go test $(GOTESTFLAGS) ./...
	cd $(STAGING)/client-go && go test $(GOTESTFLAGS) ./...
	$(MAKE) --no-print-directory test-fuzz

FUZZTIME ?= 15s
.PHONY: test-fuzz
test-fuzz: ## A short fuzzing run of node-cache's query path (the corpus also runs in every go test)
	go test -run '^$$' -fuzz '^FuzzServeQuery$$' -fuzztime $(FUZZTIME) ./pkg/nodecache/server

.PHONY: test-integration
test-integration: ## Integration tests: etcd, upstream kube-apiserver and kubectl, signet-apiserver
	# Build the upstream binaries once, outside the test timeout; the test
	# packages then find them cached under _output/upstream.
	hack/build-upstream.sh kube-apiserver kubectl
	go test $(GOTESTFLAGS) -count=1 -timeout 30m ./test/integration/...

E2E_TIMEOUT ?= 50m
.PHONY: test-e2e
test-e2e: ## e2e: Ginkgo suite against KUBECONFIG, or if unset against a local cluster it brings up and down (root); E2E_FLAGS for ginkgo flags
	@[[ -n "$${KUBECTL:-}" ]] || hack/build-upstream.sh kubectl >/dev/null
	@if [[ -n "$${KUBECONFIG:-}" ]]; then \
		echo "e2e against KUBECONFIG=$${KUBECONFIG}"; \
		go test -v -count=1 -timeout 60m ./test/e2e/ -args -ginkgo.v -ginkgo.timeout=$(E2E_TIMEOUT) $(E2E_FLAGS); \
	else \
		echo "KUBECONFIG is unset: e2e against a local cluster (hack/local-up-cluster.sh up, then down)"; \
		finish() { \
			rc=$$?; keep=""; [[ $$rc -eq 0 ]] || keep=--keep-logs; \
			hack/local-up-cluster.sh down $$keep || { echo "hack/local-up-cluster.sh down failed" >&2; [[ $$rc -ne 0 ]] || rc=1; }; \
			[[ -z $$keep ]] || echo "the local cluster's logs are kept in $(OUTPUT)/local-up/logs"; \
			exit $$rc; \
		}; \
		trap finish EXIT; \
		hack/local-up-cluster.sh up; \
		KUBECONFIG="$(CURDIR)/$(OUTPUT)/local-up/kubeconfig" \
			go test -v -count=1 -timeout 60m ./test/e2e/ -args -ginkgo.v -ginkgo.timeout=$(E2E_TIMEOUT) $(E2E_FLAGS); \
	fi

.PHONY: bench
bench: bench-endpointslice bench-proxy bench-dns bench-ingress ## Every documented benchmark (docs/benchmarks.md)

.PHONY: bench-endpointslice
bench-endpointslice: ## EndpointSlice rollout cost: signet vs upstream's reconciler vs one Endpoints object
	go run ./test/bench/endpointslice

.PHONY: bench-proxy
bench-proxy: ## kube-proxy sync time and restore size: signet vs upstream's iptables proxier
	hack/bench-proxy.sh

.PHONY: bench-dns
bench-dns: ## Per-node DNS cache: node-cache vs CoreDNS v1.15.0 under dnsperf (root; installs dnsperf)
	hack/bench-dns.sh

.PHONY: bench-ingress
bench-ingress: ## signet-ingress vs nginx proxying on one core (wrk), and kubectl-apply-to-traffic time (root; installs wrk, nginx)
	hack/bench-ingress.sh

.PHONY: verify
verify: ## gofmt, go vet, go.mod tidiness and generated code up to date
	hack/verify-gofmt.sh
	@for m in $(MODULES); do echo "go vet ($$m)"; (cd $$m && go vet ./...); done
	hack/verify-gomod.sh
	hack/verify-codegen.sh

.PHONY: update
update: ## Regenerate every generated file
	hack/update-codegen.sh

.PHONY: clean
clean: ## Remove build output
	rm -rf $(OUTPUT)

.PHONY: help
help:
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "%-18s %s\n", $$1, $$2}'
