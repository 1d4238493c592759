# collab-operator — see README.md. `make help` lists the targets.

IMG ?= collab-operator:dev
LOCALBIN ?= $(CURDIR)/bin
CONTROLLER_TOOLS_VERSION ?= v0.23.0
GOLANGCI_LINT_VERSION ?= v2.15.0
CONTROLLER_GEN ?= $(LOCALBIN)/controller-gen-$(CONTROLLER_TOOLS_VERSION)
GOLANGCI_LINT ?= $(LOCALBIN)/golangci-lint-$(GOLANGCI_LINT_VERSION)

# The local control plane's binaries live in a per-machine cache (hack/local-bins.sh).
LOCAL_BINS := $(CURDIR)/hack/local-bins.sh
KUBECTL = $(shell $(LOCAL_BINS) path k8s)/kubectl

SHELL = /usr/bin/env bash -o pipefail
.SHELLFLAGS = -ec

.PHONY: all
all: build

##@ General

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"; printf "\nUsage:\n  make \033[36m<target>\033[0m\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) } ' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: $(CONTROLLER_GEN) ## Generate CRDs and the manager's ClusterRole from the markers.
	$(CONTROLLER_GEN) rbac:roleName=manager-role crd paths="./..." output:crd:artifacts:config=config/crd/bases

.PHONY: generate
generate: $(CONTROLLER_GEN) ## Generate DeepCopy methods.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./..."

.PHONY: fmt
fmt: ## Run gofmt.
	gofmt -l -w $$(git ls-files '*.go')

.PHONY: vet
vet: ## Run go vet.
	go vet ./...

.PHONY: lint
lint: $(GOLANGCI_LINT) ## Run golangci-lint.
	$(GOLANGCI_LINT) run

.PHONY: test
test: ## Every test: unit, integration (kube-apiserver + etcd, Dendrite), drills with short windows.
	hack/test.sh

.PHONY: drills
drills: ## The fault drills alone with their long soak windows (docs/benchmarks.md).
	COLLAB_DRILLS=soak TEST_PACKAGES=./test/drills/ hack/test.sh -v

.PHONY: bench
bench: ## Benchmarks (see docs/benchmarks.md).
	go run ./hack/bench $(BENCH_ARGS)

.PHONY: docs-pictures
docs-pictures: ## Redraw docs/images: what a real client shows on Dendrite, and the HTML report in Chromium.
	hack/install-prereqs.sh
	go test ./test/client/ -count=1 -args -pictures=$(CURDIR)/docs/images
	go test ./internal/insights/ -run TestTheHTMLReportDrawsItsCharts -count=1 -args -screenshot=$(CURDIR)/docs/images/report.png

.PHONY: local-bins
local-bins: ## Build the local control plane and Dendrite into the machine's cache.
	$(LOCAL_BINS) all

.PHONY: dev
dev: ## Run the operator on a local control plane + Dendrite with the samples (Ctrl-C stops it).
	hack/install-prereqs.sh
	go build -o $(LOCALBIN)/devenv ./hack/devenv
	@# The binary runs in make's place so Ctrl-C reaches it alone and it exits 0
	@# once everything it started has stopped (go run would exit 1 after SIGINT).
	exec $(LOCALBIN)/devenv $(DEV_ARGS)

##@ Build

.PHONY: build
build: ## Build the manager binary.
	go build -o $(LOCALBIN)/manager .

.PHONY: run
run: manifests ## Run the manager against the cluster of the current kubeconfig.
	go run . --leader-elect=false

.PHONY: docker-build
docker-build: ## Build the manager image (needs a container engine).
	docker build -t $(IMG) .

##@ Deployment

.PHONY: install
install: manifests ## Install the CRDs into the cluster of the current kubeconfig.
	$(KUBECTL) apply --server-side -k config/crd

.PHONY: uninstall
uninstall: ## Remove the CRDs and every CollaborationSpace; a running operator releases them untouched (README: Uninstall).
	$(KUBECTL) delete --ignore-not-found --wait -k config/crd

.PHONY: deploy
deploy: manifests ## Deploy the operator (image IMG) to the cluster of the current kubeconfig.
	cd config/manager && $(KUBECTL) kustomize . >/dev/null
	$(KUBECTL) kustomize config/default | sed 's#image: controller:latest#image: $(IMG)#' | $(KUBECTL) apply --server-side -f -

.PHONY: undeploy
undeploy: ## Remove the operator: the CRDs first, while it runs to release every space untouched, then the rest.
	$(KUBECTL) delete --ignore-not-found --wait -k config/crd
	$(KUBECTL) delete --ignore-not-found -k config/default

##@ Tools

$(LOCALBIN):
	mkdir -p $(LOCALBIN)

$(CONTROLLER_GEN): | $(LOCALBIN)
	GOBIN=$(LOCALBIN) go install sigs.k8s.io/controller-tools/cmd/controller-gen@$(CONTROLLER_TOOLS_VERSION)
	mv $(LOCALBIN)/controller-gen $@

$(GOLANGCI_LINT): | $(LOCALBIN)
	GOBIN=$(LOCALBIN) go install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)
	mv $(LOCALBIN)/golangci-lint $@

##@ Packaging

.PHONY: helm-sync
helm-sync: manifests ## Copy the CRDs and RBAC rules of config/ into charts/collab-operator (test/packaging checks it).
	go test ./test/packaging -run '^TestHelmInSync$$' -count=1 -update
