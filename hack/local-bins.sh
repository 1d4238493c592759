#!/usr/bin/env bash
# Builds the pinned binaries of the local control plane (kube-apiserver, etcd, kubectl,
# kube-controller-manager, kube-scheduler, kwok), the Matrix homeserver (Dendrite) and
# helm (for the chart's tests) from the Go module proxy, into a per-machine cache outside
# the repository. Binaries already in the cache are reused, so only the first run on a
# machine pays for the build (about 8 minutes cold on 2 cores, and 3 more for helm).
#
# usage: hack/local-bins.sh envtest|dev|dendrite|helm|all   builds what that set needs
#        hack/local-bins.sh path envtest|k8s|etcd|kwok|dendrite|helm   prints a directory
set -euo pipefail

K8S_VERSION=${K8S_VERSION:-v1.37.2}
K8S_STAGING_VERSION=${K8S_STAGING_VERSION:-v0.37.2}
ETCD_VERSION=${ETCD_VERSION:-v3.6.16}
KWOK_VERSION=${KWOK_VERSION:-v0.8.0}
DENDRITE_VERSION=${DENDRITE_VERSION:-v0.13.8}
HELM_VERSION=${HELM_VERSION:-v3.22.0}

CACHE_DIR=${COLLAB_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/collab-operator}
K8S_DIR=$CACHE_DIR/bin/kubernetes-$K8S_VERSION
ETCD_DIR=$CACHE_DIR/bin/etcd-$ETCD_VERSION
KWOK_DIR=$CACHE_DIR/bin/kwok-$KWOK_VERSION
DENDRITE_DIR=$CACHE_DIR/bin/dendrite-$DENDRITE_VERSION
HELM_DIR=$CACHE_DIR/bin/helm-$HELM_VERSION
ENVTEST_DIR=$CACHE_DIR/envtest/kubernetes-$K8S_VERSION-etcd-$ETCD_VERSION

export CGO_ENABLED=0
export GOFLAGS="${GOFLAGS:-} -mod=mod"

log() { printf '[local-bins %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# scratch_module DIR MODULE VERSION writes a throwaway main module that requires
# MODULE@VERSION, so `go build` can build that module's commands.
scratch_module() {
  local dir=$1 module=$2 version=$3
  mkdir -p "$dir"
  if [ ! -f "$dir/go.mod" ]; then
    (cd "$dir" && go mod init collab-operator.local/scratch >/dev/null 2>&1 &&
      go mod edit -require="$module@$version")
  fi
}

# kubernetes_module writes the scratch module for k8s.io/kubernetes. Kubernetes'
# go.mod points every k8s.io/<staging> module at ./staging/..., which does not exist
# outside its repository, so each is replaced by the published staging release.
kubernetes_module() {
  local dir=$CACHE_DIR/src/kubernetes-$K8S_VERSION
  if [ -f "$dir/.replaced" ]; then echo "$dir"; return; fi
  scratch_module "$dir" k8s.io/kubernetes "$K8S_VERSION"
  local gomod
  gomod=$(cd "$dir" && go mod download -json "k8s.io/kubernetes@$K8S_VERSION" |
    sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  local staging
  staging=$(sed -n 's#^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => ./staging/.*#\1#p' "$gomod")
  local args=()
  for m in $staging; do args+=("-replace=$m=$m@$K8S_STAGING_VERSION"); done
  (cd "$dir" && go mod edit "${args[@]}")
  touch "$dir/.replaced"
  echo "$dir"
}

k8s_ldflags() {
  local minor=${K8S_VERSION#v1.}; minor=${minor%%.*}
  local p=k8s.io/component-base/version
  echo "-s -w -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor" \
    "-X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z" \
    "-X k8s.io/client-go/pkg/version.gitVersion=$K8S_VERSION"
}

# build_k8s NAME builds k8s.io/kubernetes/cmd/NAME into the cache.
build_k8s() {
  local name=$1
  if [ -x "$K8S_DIR/$name" ]; then return; fi
  local src; src=$(kubernetes_module)
  log "building $name $K8S_VERSION (kube-apiserver takes ~5 min cold)"
  mkdir -p "$K8S_DIR"
  (cd "$src" && go build -trimpath -ldflags "$(k8s_ldflags)" -o "$K8S_DIR/$name.tmp" \
    "k8s.io/kubernetes/cmd/$name")
  mv "$K8S_DIR/$name.tmp" "$K8S_DIR/$name"
  log "built $K8S_DIR/$name"
}

# build_go DIR NAME MODULE VERSION PACKAGE [LDFLAGS] builds PACKAGE from MODULE@VERSION
# as NAME, with LDFLAGS added to the linker's flags.
build_go() {
  local dir=$1 name=$2 module=$3 version=$4 pkg=$5 ldflags=${6:-}
  if [ -x "$dir/$name" ]; then return; fi
  local src=$CACHE_DIR/src/${module//\//_}-$version
  scratch_module "$src" "$module" "$version"
  log "building $name $version"
  mkdir -p "$dir"
  (cd "$src" && go build -trimpath -ldflags "-s -w $ldflags" -o "$dir/$name.tmp" "$pkg")
  mv "$dir/$name.tmp" "$dir/$name"
  log "built $dir/$name"
}

build_etcd() { build_go "$ETCD_DIR" etcd go.etcd.io/etcd/server/v3 "$ETCD_VERSION" go.etcd.io/etcd/server/v3; }
build_kwok() {
  build_go "$KWOK_DIR" kwok sigs.k8s.io/kwok "$KWOK_VERSION" sigs.k8s.io/kwok/cmd/kwok
  kwok_stages
}

# kwok_stages writes the "fast" node and pod stages that kwokctl uses by default into
# one config file: run bare, kwok has no stages and a node never turns Ready.
kwok_stages() {
  if [ -f "$KWOK_DIR/stages.yaml" ]; then return; fi
  local src
  src=$(cd "$CACHE_DIR/src/sigs.k8s.io_kwok-$KWOK_VERSION" &&
    go mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
  local f
  for f in "$src"/kustomize/stage/node/fast/node-*.yaml "$src"/kustomize/stage/pod/fast/pod-*.yaml; do
    cat "$f"
    echo "---"
  done > "$KWOK_DIR/stages.yaml.tmp"
  mv "$KWOK_DIR/stages.yaml.tmp" "$KWOK_DIR/stages.yaml"
}

# build_helm builds the helm CLI that test/packaging renders and lints the chart with.
# The -X flags are those of Helm's Makefile: its version, and the Kubernetes version
# that `helm template` and `helm lint` assume (ours; 1.20 without them).
build_helm() {
  local p=helm.sh/helm/v3 minor=${K8S_VERSION#v1.}; minor=${minor%%.*}
  build_go "$HELM_DIR" helm $p "$HELM_VERSION" $p/cmd/helm \
    "-X $p/internal/version.version=$HELM_VERSION -X $p/internal/version.gitTreeState=clean \
     -X $p/pkg/chartutil.k8sVersionMajor=1 -X $p/pkg/chartutil.k8sVersionMinor=$minor \
     -X $p/pkg/lint/rules.k8sVersionMajor=1 -X $p/pkg/lint/rules.k8sVersionMinor=$minor"
}

build_dendrite() {
  local c
  for c in dendrite generate-config generate-keys create-account; do
    build_go "$DENDRITE_DIR" "$c" github.com/matrix-org/dendrite "$DENDRITE_VERSION" \
      "github.com/matrix-org/dendrite/cmd/$c"
  done
}

# envtest_assets links the binaries envtest needs into one KUBEBUILDER_ASSETS dir.
envtest_assets() {
  build_etcd
  build_k8s kube-apiserver
  build_k8s kubectl
  mkdir -p "$ENVTEST_DIR"
  ln -sf "$K8S_DIR/kube-apiserver" "$ENVTEST_DIR/kube-apiserver"
  ln -sf "$K8S_DIR/kubectl" "$ENVTEST_DIR/kubectl"
  ln -sf "$ETCD_DIR/etcd" "$ENVTEST_DIR/etcd"
}

dev_assets() {
  envtest_assets
  build_k8s kube-controller-manager
  build_k8s kube-scheduler
  build_kwok
}

# One build at a time per machine: test runs started side by side would otherwise
# build the same binaries at once, into the same files. The second waits, then
# finds them built.
if [ "${1:-}" != path ]; then
  mkdir -p "$CACHE_DIR"
  exec 9>"$CACHE_DIR/.build.lock"
  flock 9
fi

case "${1:-}" in
  envtest) envtest_assets ;;
  dev) dev_assets; build_dendrite ;;
  dendrite) build_dendrite ;;
  helm) build_helm ;;
  all) dev_assets; build_dendrite; build_helm ;;
  path)
    case "${2:-}" in
      envtest) echo "$ENVTEST_DIR" ;;
      k8s) echo "$K8S_DIR" ;;
      etcd) echo "$ETCD_DIR" ;;
      kwok) echo "$KWOK_DIR" ;;
      dendrite) echo "$DENDRITE_DIR" ;;
      helm) echo "$HELM_DIR" ;;
      *) echo "usage: $0 path envtest|k8s|etcd|kwok|dendrite|helm" >&2; exit 2 ;;
    esac ;;
  *) echo "usage: $0 envtest|dev|dendrite|helm|all | path NAME" >&2; exit 2 ;;
esac
