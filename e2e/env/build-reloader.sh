#!/usr/bin/env bash
# Builds (once) Stakater Reloader from its Go module, for the bench that runs it beside the operator on
# the same cluster (`npm run bench:reloader`), and caches the binary outside the repository. Prints
# the binary's path on its last line of stdout.
#
# Two changes to its source, both outside what is measured:
# - github.com/openshift/api is taken at the version its own openshift/client-go asks for: the Go
#   module proxy does not serve the pseudo-version Reloader's go.mod names (403);
# - its metrics and health listener binds RELOADER_HTTP_ADDR (default 127.0.0.1:9090) instead of
#   :9090 on every interface: the environment binds loopback only, on free ports.
set -euo pipefail

RELOADER_VERSION="${RELOADER_VERSION:-v1.4.22}"
OPENSHIFT_API_VERSION="${OPENSHIFT_API_VERSION:-v0.0.0-20260326111139-30c2ef7a272e}"
CACHE_ROOT="${SRO_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/secrets-rotation-operator}"
CACHE="$CACHE_ROOT/reloader-$RELOADER_VERSION"
BIN="$CACHE/reloader"

say() { printf '[reloader:build] %s\n' "$*" >&2; }
die() { printf '[reloader:build] ERROR: %s\n' "$*" >&2; exit 1; }

if [ ! -x "$BIN" ]; then
  command -v go >/dev/null 2>&1 || die "go is missing: install Go >= 1.26.8 (its go.mod asks for it)"
  export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod
  mkdir -p "$CACHE"
  say "building Stakater Reloader $RELOADER_VERSION (a few minutes on 2 cores the first time)…"
  src=$(go mod download -json "github.com/stakater/Reloader@$RELOADER_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
  [ -d "$src" ] || die "could not download github.com/stakater/Reloader@$RELOADER_VERSION"
  # Its go.mod has replace directives, which `go install pkg@version` refuses: built in a copy.
  w=$(mktemp -d "$CACHE/src.XXXX")
  trap 'rm -rf "$w"' EXIT
  cp -r "$src/." "$w/"
  chmod -R u+w "$w"
  cat > "$w/internal/pkg/cmd/listen_addr.go" <<'EOF'
package cmd

import "os"

// listenAddr is where the metrics and health endpoints listen: RELOADER_HTTP_ADDR, or loopback.
func listenAddr() string {
	if a := os.Getenv("RELOADER_HTTP_ADDR"); a != "" {
		return a
	}
	return "127.0.0.1:9090"
}
EOF
  sed -i 's/http.ListenAndServe(constants.DefaultHttpListenAddr, nil)/http.ListenAndServe(listenAddr(), nil)/' \
    "$w/internal/pkg/cmd/reloader.go"
  grep -q 'ListenAndServe(listenAddr()' "$w/internal/pkg/cmd/reloader.go" \
    || die "Reloader $RELOADER_VERSION: its listener call moved; update the patch in $0"
  ( cd "$w" && go mod edit "-replace=github.com/openshift/api=github.com/openshift/api@$OPENSHIFT_API_VERSION" \
    && go build -ldflags "-s -w" -o "$BIN.partial.$$" . ) >&2
  mv "$BIN.partial.$$" "$BIN"
fi
echo "$BIN"
