#!/usr/bin/env bash
# Builds (once) the binaries of the local test environment and caches them outside the repository:
# etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl, kubelet, kwok (+ its Stage files),
# moto[server] in a Python venv, skaffold, helm, the External Secrets Operator controller, prometheus and
# promtool (the chart's alerts and dashboard proven against them), and the CRDs of
# ESO, the Secrets Store CSI driver and Argo Rollouts. Prints the cache folder on its last line of stdout.
#
# KUBEBUILDER_ASSETS, when it names a folder holding etcd, kube-apiserver and kubectl, is used for
# those instead of building them (the envtest convention).
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-v1.34.4}"
ETCD_VERSION="${ETCD_VERSION:-v3.6.16}"
KWOK_VERSION="${KWOK_VERSION:-v0.8.0}"
MOTO_VERSION="${MOTO_VERSION:-5.2.5}"
CFN_LINT_VERSION="${CFN_LINT_VERSION:-1.58.0}"
SKAFFOLD_VERSION="${SKAFFOLD_VERSION:-v2.13.2}"
HELM_VERSION="${HELM_VERSION:-v3.22.0}"
PROMETHEUS_VERSION="${PROMETHEUS_VERSION:-v0.316.0}"
CACHE_ROOT="${SRO_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/secrets-rotation-operator}"
CACHE="$CACHE_ROOT/k8s-$K8S_VERSION-etcd-$ETCD_VERSION-kwok-$KWOK_VERSION-moto-$MOTO_VERSION"
BIN="$CACHE/bin"

say() { printf '[env:build] %s\n' "$*" >&2; }
die() { printf '[env:build] ERROR: %s\n' "$*" >&2; exit 1; }
need() { command -v "$1" >/dev/null 2>&1 || die "$1 is missing: $2"; }

mkdir -p "$BIN" "$CACHE/tmp"
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod

need_go() { need go "install Go >= 1.24 (https://go.dev/dl or 'apt-get install golang')"; }

build_etcd() {
  [ -x "$BIN/etcd" ] && return
  need_go
  say "building etcd $ETCD_VERSION (a few minutes the first time)…"
  local w; w=$(mktemp -d "$CACHE/tmp/etcd.XXXX")
  ( cd "$w" && go mod init w >/dev/null 2>&1 \
    && go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" \
    && go build -ldflags "-s -w" -o "$BIN/etcd.partial" go.etcd.io/etcd/server/v3 ) >&2
  mv "$BIN/etcd.partial" "$BIN/etcd"; rm -rf "$w"
}

build_kubernetes() {
  local c missing=()
  for c in kube-apiserver kube-controller-manager kube-scheduler kubectl kubelet; do
    [ -x "$BIN/$c" ] || missing+=("$c")
  done
  [ ${#missing[@]} -eq 0 ] && return
  need_go
  say "building ${missing[*]} $K8S_VERSION (15-30 minutes on 2 cores the first time)…"
  local w gomod minor="${K8S_VERSION#v1.}"
  minor="${minor%%.*}"
  w=$(mktemp -d "$CACHE/tmp/k8s.XXXX")
  cd "$w"
  go mod init w >/dev/null 2>&1
  gomod=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  [ -f "$gomod" ] || die "could not download k8s.io/kubernetes@$K8S_VERSION from the Go module proxy"
  # k8s.io/kubernetes replaces its staging modules with local paths; a wrapper module must point
  # them at the published v0.<minor>.<patch> versions instead.
  local staging="v0.${K8S_VERSION#v1.}"
  grep -oE '^\s*k8s\.io/[a-z0-9-]+ => \./staging' "$gomod" | awk '{print $1}' | while read -r m; do
    go mod edit "-replace=$m=$m@$staging"
  done
  go get "k8s.io/kubernetes@$K8S_VERSION" >&2
  local pkg ld="-s -w"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    ld+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  for c in "${missing[@]}"; do
    say "  go build $c…"
    go build -ldflags "$ld" -o "$BIN/$c.partial" "k8s.io/kubernetes/cmd/$c" >&2
    mv "$BIN/$c.partial" "$BIN/$c"
  done
  cd /; rm -rf "$w"
}

build_kwok() {
  [ -x "$BIN/kwok" ] && [ -d "$CACHE/kwok-stages" ] && return
  need_go
  say "building kwok $KWOK_VERSION…"
  GOBIN="$BIN" go install -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" >&2
  local src; src=$(go mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
  rm -rf "$CACHE/kwok-stages.partial"; mkdir -p "$CACHE/kwok-stages.partial"
  cp -r "$src/kustomize/stage/." "$CACHE/kwok-stages.partial/"
  chmod -R u+w "$CACHE/kwok-stages.partial"
  mv "$CACHE/kwok-stages.partial" "$CACHE/kwok-stages"
}

build_moto() {
  [ -x "$CACHE/venv/bin/moto_server" ] && [ -x "$CACHE/venv/bin/cfn-lint" ] && return
  need python3 "install Python 3.9+ ('apt-get install python3 python3-venv')"
  say "installing moto[server]==$MOTO_VERSION and cfn-lint==$CFN_LINT_VERSION in a venv…"
  rm -rf "$CACHE/venv"
  python3 -m venv "$CACHE/venv" >&2 2>/dev/null || die "python3-venv is missing: 'apt-get install python3-venv'"
  "$CACHE/venv/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION" "cfn-lint==$CFN_LINT_VERSION" >&2
}

build_skaffold() {
  [ -x "$BIN/skaffold" ] && return
  need_go
  say "building skaffold $SKAFFOLD_VERSION (used to validate skaffold.yaml offline)…"
  local w; w=$(mktemp -d "$CACHE/tmp/skaffold.XXXX")
  # `go install` refuses it (its version list is not served); a wrapper module works. x/tools is
  # lifted because the version skaffold pins does not compile with Go >= 1.24.
  ( cd "$w" && go mod init w >/dev/null 2>&1 \
    && go get "github.com/GoogleContainerTools/skaffold/v2@$SKAFFOLD_VERSION" \
    && go get golang.org/x/tools@v0.30.0 \
    && go build -ldflags "-s -w" -o "$BIN/skaffold.partial" github.com/GoogleContainerTools/skaffold/v2/cmd/skaffold ) >&2
  mv "$BIN/skaffold.partial" "$BIN/skaffold"; rm -rf "$w"
}

# External Secrets Operator (its controller, built from its Go module: a real peer for the tests) and
# the CRDs of the three projects the operator works with, as their modules ship them.
ESO_VERSION="${ESO_VERSION:-v0.16.2}"
CSI_DRIVER_VERSION="${CSI_DRIVER_VERSION:-v1.4.8}"
ARGO_ROLLOUTS_VERSION="${ARGO_ROLLOUTS_VERSION:-v1.8.3}"

module_dir() { go mod download -json "$1" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p'; }

build_peers() {
  [ -x "$BIN/external-secrets" ] && [ -d "$CACHE/crds" ] && return
  need_go
  local eso csi argo
  eso=$(module_dir "github.com/external-secrets/external-secrets@$ESO_VERSION")
  csi=$(module_dir "sigs.k8s.io/secrets-store-csi-driver@$CSI_DRIVER_VERSION")
  argo=$(module_dir "github.com/argoproj/argo-rollouts@$ARGO_ROLLOUTS_VERSION")
  [ -d "$eso" ] && [ -d "$csi" ] && [ -d "$argo" ] || die "could not download the ESO, CSI driver or Argo Rollouts module"
  rm -rf "$CACHE/crds.partial"; mkdir -p "$CACHE/crds.partial"
  cp "$eso"/config/crds/bases/*.io_*.yaml "$CACHE/crds.partial/"
  cp "$csi/config/crd/bases/secrets-store.csi.x-k8s.io_secretproviderclasses.yaml" "$CACHE/crds.partial/"
  cp "$argo/manifests/crds/rollout-crd.yaml" "$CACHE/crds.partial/argoproj.io_rollouts.yaml"
  chmod -R u+w "$CACHE/crds.partial"
  rm -rf "$CACHE/crds"; mv "$CACHE/crds.partial" "$CACHE/crds"
  [ -x "$BIN/external-secrets" ] && return
  # The demo asks for it in the background (SRO_ESO_IN_BACKGROUND=1): five minutes a cold demo does
  # not wait for; its environment goes without ESO until a later env:up. Tests build it here.
  if [ "${SRO_ESO_IN_BACKGROUND:-0}" = 1 ]; then
    # A lock left by a build that was killed: an hour is far longer than the build takes.
    find "$CACHE" -maxdepth 1 -name eso-build.lock -mmin +60 -exec rmdir {} \; 2>/dev/null || true
    if mkdir "$CACHE/eso-build.lock" 2>/dev/null; then
      say "building External Secrets Operator $ESO_VERSION in the background (log: $CACHE/eso-build.log)"
      ( build_eso "$eso"; rmdir "$CACHE/eso-build.lock" ) > "$CACHE/eso-build.log" 2>&1 < /dev/null &
      disown
    else
      say "External Secrets Operator is still building in the background ($CACHE/eso-build.log)"
    fi
    return
  fi
  build_eso "$eso"
}

build_eso() {
  local w
  say "building External Secrets Operator $ESO_VERSION (about 5 minutes on 2 cores the first time)…"
  # Its go.mod has replace directives, which `go install pkg@version` refuses: built in a copy.
  w=$(mktemp -d "$CACHE/tmp/eso.XXXX")
  cp -r "$1/." "$w/"; chmod -R u+w "$w"
  ( cd "$w" && go build -ldflags "-s -w" -o "$BIN/external-secrets.partial.$$" . ) >&2
  mv "$BIN/external-secrets.partial.$$" "$BIN/external-secrets"; rm -rf "$w"
}

# Prometheus and promtool (v3; the module's versions are v0.3MM.P for v3.MM.P), to prove the chart's alerts
# and dashboard: promtool checks and unit-tests the rules, a real Prometheus scrapes the operator. Built in
# a copy of the module so its go.mod and go.sum pin every dependency; `remove_all_sd` leaves out the
# cloud service discoveries (the tests scrape a static target), and without `builtinassets` the web UI's
# assets (generated by npm, not in the module) are not needed: the HTTP API works without them. Its go.mod
# asks for Go >= 1.26.7 (with GOTOOLCHAIN=local an older Go says so and stops).
build_prometheus() {
  [ -x "$BIN/prometheus" ] && [ -x "$BIN/promtool" ] && return
  need_go
  # The demo does not use it: a cold demo does not wait ten more minutes for it.
  [ "${SRO_ESO_IN_BACKGROUND:-0}" = 1 ] && return
  say "building prometheus and promtool $PROMETHEUS_VERSION (about 10 minutes on 2 cores the first time)…"
  local src w v ld c
  src=$(module_dir "github.com/prometheus/prometheus@$PROMETHEUS_VERSION")
  [ -d "$src" ] || die "could not download github.com/prometheus/prometheus@$PROMETHEUS_VERSION"
  v=$(cat "$src/VERSION") # 3.16.0 for v0.316.0
  w=$(mktemp -d "$CACHE/tmp/prometheus.XXXX")
  cp -r "$src/." "$w/"; chmod -R u+w "$w"
  ld="-s -w"
  for c in Version=$v Revision=$PROMETHEUS_VERSION Branch=HEAD BuildUser=secrets-rotation-operator BuildDate=19700101-00:00:00; do
    ld+=" -X github.com/prometheus/common/version.$c"
  done
  for c in prometheus promtool; do
    [ -x "$BIN/$c" ] && continue
    say "  go build $c…"
    # GOWORK=off: the module ships a go.work naming its tools modules, which the build does not need.
    ( cd "$w" && GOWORK=off go build -tags netgo,remove_all_sd -ldflags "$ld" -o "$BIN/$c.partial.$$" "./cmd/$c" ) >&2
    mv "$BIN/$c.partial.$$" "$BIN/$c"
  done
  rm -rf "$w"
}

build_helm() {
  [ -x "$BIN/helm" ] && return
  need_go
  say "building helm $HELM_VERSION (the chart's lint, template and install tests)…"
  local w; w=$(mktemp -d "$CACHE/tmp/helm.XXXX")
  # As helm's Makefile does: the Kubernetes version `helm template` and `lint` assume offline is the
  # client-go minor it was built with (without these flags it assumes v1.20).
  ( cd "$w" && go mod init w >/dev/null 2>&1 \
    && go get "helm.sh/helm/v3@$HELM_VERSION" \
    && local kv && kv=$(go list -f '{{.Version}}' -m k8s.io/client-go) && kv=${kv#v0.} \
    && local ld="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" p \
    && for p in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do \
         ld+=" -X $p.k8sVersionMajor=1 -X $p.k8sVersionMinor=${kv%%.*}"; done \
    && go build -ldflags "$ld" -o "$BIN/helm.partial" helm.sh/helm/v3/cmd/helm ) >&2
  mv "$BIN/helm.partial" "$BIN/helm"; rm -rf "$w"
}

use_kubebuilder_assets() {
  local a="${KUBEBUILDER_ASSETS:-}" c
  [ -n "$a" ] || return 0
  for c in etcd kube-apiserver kubectl; do
    [ -x "$a/$c" ] || { say "KUBEBUILDER_ASSETS=$a has no $c: building instead"; return 0; }
  done
  say "using etcd, kube-apiserver and kubectl from KUBEBUILDER_ASSETS=$a"
  for c in etcd kube-apiserver kubectl; do ln -sf "$a/$c" "$BIN/$c"; done
}

bash "$(dirname "$0")/system-deps.sh"
need openssl "install openssl ('apt-get install openssl')"
use_kubebuilder_assets
build_moto
build_etcd
build_kwok
build_kubernetes
build_skaffold
build_helm
build_peers
build_prometheus
say "binaries ready in $BIN"
echo "$CACHE"
