#!/usr/bin/env bash
# The system packages the local environment needs, installed with apt when missing — by the npm
# scripts themselves (build.sh runs this first), so `npm ci && npm test` and `npm ci && npm run demo`
# work on a fresh machine. As root (or with passwordless sudo) it installs; otherwise it prints the
# exact command and goes on: what needs a missing package then skips, saying why.
#   openssl, git, python3-venv: the control plane's PKI, Go module fetches, moto's venv;
#   buildah, debootstrap: the image, built without a Docker engine (vfs storage, chroot isolation) on
#     a base assembled with debootstrap when no image registry is reachable;
#   containerd, runc, containernetworking-plugins, iproute2, docker-registry: the real node and its
#     local registry;
#   gnupg: the PGP key the chart test signs the chart with (helm package --sign).
set -euo pipefail

say() { printf '[env:system] %s\n' "$*" >&2; }

missing=()
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v git >/dev/null 2>&1 || missing+=(git)
command -v gpg >/dev/null 2>&1 || missing+=(gnupg)
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || missing+=(python3-venv)
for tool in buildah containerd runc debootstrap docker-registry; do
  command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] || [ -x "/usr/bin/$tool" ] || missing+=("$tool")
done
command -v ip >/dev/null 2>&1 || [ -x /usr/sbin/ip ] || [ -x /sbin/ip ] || missing+=(iproute2)
[ -x /usr/lib/cni/bridge ] || missing+=(containernetworking-plugins)
[ ${#missing[@]} -eq 0 ] && exit 0

command -v apt-get >/dev/null 2>&1 || { say "missing ${missing[*]} and no apt-get: install them by hand"; exit 0; }
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo"
  else
    say "missing ${missing[*]}; not root, so not installed. Run: sudo apt-get install -y ${missing[*]}"
    exit 0
  fi
fi
say "installing ${missing[*]} with apt (once per machine)…"
$SUDO apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >&2 \
  || say "apt-get install ${missing[*]} failed; what needs them will skip"
