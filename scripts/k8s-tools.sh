#!/usr/bin/env bash
# Build (once) and cache the Kubernetes tooling used by the Helm chart tests:
#   helm, helm-unittest (as a helm plugin + standalone `untt`), kwok,
#   kube-apiserver, kube-controller-manager, kube-scheduler, kubectl, etcd.
#
# Everything is built from the Go module proxy into .cache/k8s-tools/ (GOPATH,
# GOCACHE, GOMODCACHE included), so nothing is downloaded from release sites.
# Each tool has a stamp file keyed by tool+version+recipe; a warm run only
# checks stamps and binaries (~instant).
#
# Usage:
#   scripts/k8s-tools.sh [build] [TOOL...]   build missing tools (default: all)
#   scripts/k8s-tools.sh check              exit 0 iff every tool is built
#   scripts/k8s-tools.sh env                print `export` lines (PATH, HELM_PLUGINS, ...)
#   scripts/k8s-tools.sh versions           print the pinned versions
#   scripts/k8s-tools.sh times              print recorded cold build times
#   scripts/k8s-tools.sh prune              delete Go build/module caches (~6 GB), keep binaries
# TOOL is one of: helm helm-unittest kwok kube etcd
#
# Environment knobs:
#   K8S_TOOLS_CACHE   cache dir (default <repo>/.cache/k8s-tools)
#   K8S_TOOLS_JOBS    go build -p (default 2)
#   K8S_TOOLS_NICE    nice level for builds (default 10)
#   GO                go binary (default: go on PATH, else /usr/local/go/bin/go)
#   GOTOOLCHAIN       passed through (default local; go1.27.3 is the approved fallback)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${K8S_TOOLS_CACHE:-$ROOT/.cache/k8s-tools}
BIN=$CACHE/bin
STAMPS=$CACHE/stamps
SRC=$CACHE/src
PLUGINS=$CACHE/helm-plugins
TIMES=$CACHE/build-times.log

# ---- pinned versions (see tests/k8s/README.md for why) ----------------------
HELM_VERSION=v3.21.4             # helm-unittest v1.1.2 is built against helm v3.21 (plugin API v1)
HELM_UNITTEST_VERSION=v1.1.2
KWOK_VERSION=v0.8.0              # built against k8s.io/* v0.36
KUBE_VERSION=v1.36.3             # kube-apiserver/controller-manager/scheduler/kubectl
ETCD_MODE=${K8S_TOOLS_ETCD:-build}  # build: etcd from go.etcd.io (version pinned by k8s go.mod); system: /usr/bin/etcd
RECIPE=1                         # bump to force rebuilds after changing a recipe below

KUBE_MINOR=${KUBE_VERSION#v}; KUBE_MINOR=${KUBE_MINOR#*.}; KUBE_MINOR=${KUBE_MINOR%%.*}
STAGING_VERSION=v0.${KUBE_MINOR}.${KUBE_VERSION##*.}

# ---- go environment ----------------------------------------------------------
if [[ -z "${GO:-}" ]]; then
  if command -v go >/dev/null 2>&1; then GO=$(command -v go); else GO=/usr/local/go/bin/go; fi
fi
export GOPATH=$CACHE/gopath GOCACHE=$CACHE/gocache GOMODCACHE=$CACHE/gomodcache
export GOFLAGS="-buildvcs=false -p=${K8S_TOOLS_JOBS:-2}"
export GOTOOLCHAIN=${GOTOOLCHAIN:-local}
export CGO_ENABLED=0
NICE=(nice -n "${K8S_TOOLS_NICE:-10}")

log() { echo "k8s-tools: $*" >&2; }

stamp_file() { echo "$STAMPS/$1@$2.r$RECIPE"; }

is_built() { # tool version binaries...
  local st; st=$(stamp_file "$1" "$2"); shift 2
  [[ -f $st ]] || return 1
  local b; for b in "$@"; do [[ -x $b ]] || return 1; done
}

record() { # tool version seconds
  mkdir -p "$STAMPS"
  local line
  line="$(date -u +%FT%TZ) $1 $2 cold_build_seconds=$3 go=$("$GO" env GOVERSION) load=$(cut -d' ' -f1-3 /proc/loadavg)"
  echo "$line" >>"$TIMES"
  echo "$line" >"$(stamp_file "$1" "$2")"
  log "built $1 $2 in ${3}s"
}

build_helm() {
  local bins=("$BIN/helm")
  is_built helm "$HELM_VERSION" "${bins[@]}" && return 0
  log "building helm $HELM_VERSION ..."
  local t0=$SECONDS
  mkdir -p "$BIN"
  GOBIN=$BIN "${NICE[@]}" "$GO" install -trimpath -ldflags "-s -w \
    -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION \
    -X helm.sh/helm/v3/internal/version.gitTreeState=clean \
    -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 \
    -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$KUBE_MINOR \
    -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 \
    -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$KUBE_MINOR" \
    "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
  record helm "$HELM_VERSION" $((SECONDS - t0))
}

build_helm_unittest() {
  local pdir=$PLUGINS/unittest
  local bins=("$pdir/untt-linux-amd64" "$BIN/untt")
  is_built helm-unittest "$HELM_UNITTEST_VERSION" "${bins[@]}" && return 0
  log "building helm-unittest $HELM_UNITTEST_VERSION ..."
  local t0=$SECONDS
  # helm-unittest's go.mod has a replace directive, so `go install m@v` refuses it:
  # build from a writable copy of the module source instead.
  local dir
  dir=$("$GO" mod download -json "github.com/helm-unittest/helm-unittest@$HELM_UNITTEST_VERSION" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  local work=$SRC/helm-unittest-$HELM_UNITTEST_VERSION
  rm -rf "$work" && mkdir -p "$SRC" && cp -r "$dir" "$work" && chmod -R u+w "$work"
  mkdir -p "$pdir" "$BIN"
  (cd "$work" && "${NICE[@]}" "$GO" build -mod=mod -trimpath \
    -ldflags "-s -w -X github.com/helm-unittest/helm-unittest/internal/build.version=${HELM_UNITTEST_VERSION#v}" \
    -o "$pdir/untt-linux-amd64" ./cmd/helm-unittest)
  # Install as a helm plugin by hand (offline): plugin.yaml without the
  # install/update hooks (they download release binaries).
  sed '/^platformHooks:/,$d' "$work/plugin.yaml" >"$pdir/plugin.yaml"
  ln -sf "$pdir/untt-linux-amd64" "$BIN/untt"
  record helm-unittest "$HELM_UNITTEST_VERSION" $((SECONDS - t0))
}

# Standalone kwok needs its Stage objects in a config file (kwokctl embeds
# them). Use the same defaults as kwokctl: node-initialize (fast),
# node-heartbeat-with-lease, pod-ready/complete/delete (fast).
kwok_config() {
  local cfg=$CACHE/etc/kwok-$KWOK_VERSION.yaml
  [[ -s $cfg ]] && return 0
  local dir
  dir=$("$GO" mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  mkdir -p "$CACHE/etc"
  local f first=1
  {
    for f in node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
      pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
      [[ $first == 1 ]] || echo "---"
      first=0
      cat "$dir/kustomize/stage/$f"
    done
  } >"$cfg.tmp"
  mv "$cfg.tmp" "$cfg"
  ln -sf "kwok-$KWOK_VERSION.yaml" "$CACHE/etc/kwok.yaml"
}

build_kwok() {
  local bins=("$BIN/kwok")
  kwok_config
  is_built kwok "$KWOK_VERSION" "${bins[@]}" && return 0
  log "building kwok $KWOK_VERSION ..."
  local t0=$SECONDS
  mkdir -p "$BIN"
  GOBIN=$BIN "${NICE[@]}" "$GO" install -trimpath -ldflags "-s -w \
    -X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK_VERSION#v} \
    -X sigs.k8s.io/kwok/pkg/consts.KubeVersion=${KUBE_VERSION#v}" \
    "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
  record kwok "$KWOK_VERSION" $((SECONDS - t0))
}

# Throwaway module consuming k8s.io/kubernetes as a library: require the
# release and pin every staging module (k8s.io/kubernetes replaces them with
# ./staging, which a dependent module cannot see) to the matching v0.X.Y.
kube_module() {
  local mod=$SRC/kube-$KUBE_VERSION
  if [[ -f $mod/.ready ]]; then echo "$mod"; return 0; fi
  log "resolving k8s.io/kubernetes $KUBE_VERSION module graph ..."
  local t0=$SECONDS
  mkdir -p "$mod"
  local kmod
  kmod=$("$GO" mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
  local goline; goline=$(grep -m1 '^go ' "$kmod")
  {
    echo "module k8stools"
    echo
    echo "$goline"
    echo
    echo "require k8s.io/kubernetes $KUBE_VERSION"
    echo
    echo "replace ("
    sed -n 's#^[[:space:]]*\(k8s\.io/[A-Za-z0-9._-]*\) => \./staging/.*#\1#p' "$kmod" |
      while read -r m; do echo "	$m => $m $STAGING_VERSION"; done
    echo ")"
  } >"$mod/go.mod"
  cat >"$mod/tools.go" <<'EOF'
//go:build tools

package tools

import (
	_ "go.etcd.io/etcd/server/v3"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
EOF
  (cd "$mod" && "$GO" mod tidy -e >&2)
  touch "$mod/.ready"
  record kube-module "$KUBE_VERSION" $((SECONDS - t0)) >&2
  echo "$mod"
}

kube_ldflags() {
  local pkg ld="-s -w" date
  date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld+=" -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$KUBE_MINOR"
    ld+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$date -X $pkg.gitCommit=0000000000000000000000000000000000000000"
  done
  echo "$ld"
}

build_kube() {
  local cmds=(kube-apiserver kube-controller-manager kube-scheduler kubectl)
  local bins=() c; for c in "${cmds[@]}"; do bins+=("$BIN/$c"); done
  is_built kube "$KUBE_VERSION" "${bins[@]}" && return 0
  local t_all=$SECONDS
  local mod; mod=$(kube_module)
  local ld; ld=$(kube_ldflags)
  mkdir -p "$BIN"
  for c in "${cmds[@]}"; do
    local t0=$SECONDS
    log "building $c $KUBE_VERSION (slow on a cold cache) ..."
    (cd "$mod" && "${NICE[@]}" "$GO" build -trimpath -ldflags "$ld" -o "$BIN/$c.tmp" "k8s.io/kubernetes/cmd/$c")
    mv "$BIN/$c.tmp" "$BIN/$c"
    record "$c" "$KUBE_VERSION" $((SECONDS - t0))
  done
  record kube "$KUBE_VERSION" $((SECONDS - t_all))
}

etcd_version() { # the etcd server version pinned by k8s.io/kubernetes' go.mod
  local mod; mod=$(kube_module)
  (cd "$mod" && "$GO" list -m -f '{{.Version}}' go.etcd.io/etcd/server/v3)
}

build_etcd() {
  if [[ $ETCD_MODE == system ]]; then
    mkdir -p "$BIN"
    ln -sf "$(command -v etcd)" "$BIN/etcd"
    return 0
  fi
  local vf=$SRC/kube-$KUBE_VERSION/.etcd-version v
  if [[ -f $vf ]]; then
    v=$(cat "$vf")
    is_built etcd "$v" "$BIN/etcd" && return 0
  fi
  local mod; mod=$(kube_module)
  v=$(etcd_version)
  log "building etcd $v ..."
  local t0=$SECONDS
  mkdir -p "$BIN"
  (cd "$mod" && "${NICE[@]}" "$GO" build -trimpath -ldflags "-s -w" -o "$BIN/etcd.tmp" go.etcd.io/etcd/server/v3)
  mv "$BIN/etcd.tmp" "$BIN/etcd"
  echo "$v" >"$vf"
  record etcd "$v" $((SECONDS - t0))
}

ALL_TOOLS=(helm helm-unittest kwok kube etcd)

build() {
  local tools=("$@"); [[ ${#tools[@]} -gt 0 ]] || tools=("${ALL_TOOLS[@]}")
  local t
  for t in "${tools[@]}"; do
    case $t in
      helm) build_helm ;;
      helm-unittest) build_helm_unittest ;;
      kwok) build_kwok ;;
      kube) build_kube ;;
      etcd) build_etcd ;;
      *) log "unknown tool: $t (one of ${ALL_TOOLS[*]})"; exit 2 ;;
    esac
  done
}

check() {
  local b missing=0
  for b in helm untt kwok kube-apiserver kube-controller-manager kube-scheduler kubectl etcd; do
    [[ -x $BIN/$b ]] || { log "missing $BIN/$b"; missing=1; }
  done
  [[ -x $PLUGINS/unittest/untt-linux-amd64 ]] || { log "missing helm-unittest plugin"; missing=1; }
  [[ -s $CACHE/etc/kwok.yaml ]] || { log "missing kwok stage config"; missing=1; }
  return $missing
}

print_env() {
  echo "export PATH=\"$BIN:\$PATH\""
  echo "export HELM_PLUGINS=\"$PLUGINS\""
  echo "export K8S_TOOLS_BIN=\"$BIN\""
  echo "export KWOK_CONFIG=\"$CACHE/etc/kwok.yaml\""
}

case ${1:-build} in
  build) shift || true; build "$@" ;;
  check) check ;;
  env) print_env ;;
  versions)
    echo "helm=$HELM_VERSION helm-unittest=$HELM_UNITTEST_VERSION kwok=$KWOK_VERSION kubernetes=$KUBE_VERSION etcd=$ETCD_MODE"
    ;;
  times) cat "$TIMES" 2>/dev/null || true ;;
  prune)
    # Drop the Go build cache and sources (~5 GB) but keep binaries + stamps,
    # so warm runs stay instant; a version bump then rebuilds from scratch.
    chmod -R u+w "$GOMODCACHE" 2>/dev/null || true
    rm -rf "$GOCACHE" "$GOMODCACHE" "$SRC/helm-unittest-"*
    log "pruned build caches; binaries kept in $BIN"
    ;;
  helm | helm-unittest | kwok | kube | etcd) build "$@" ;;
  -h | --help | help) sed -n '2,25p' "$0" ;;
  *) log "unknown command: $1"; exit 2 ;;
esac
