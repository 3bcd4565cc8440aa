#!/usr/bin/env bash
# Builds the docs site (docs/ → site/, git-ignored) with MkDocs and the Material theme, strict: a broken
# link, anchor or nav entry fails. The tools come from PyPI, pinned in docs-requirements.txt, in a venv
# cached outside the repository (like the environment's binaries) and named after the pins' hash, so a
# change of pins makes a new one.
#
#   docs.sh build   npm run docs: fails when the tools cannot be installed
#   docs.sh test    npm test: the same build, but skips (exit 0, saying why) when Python's venv is
#                   missing or PyPI cannot be reached on a machine that has no venv yet
set -euo pipefail
mode="${1:-build}"
cd "$(dirname "$0")/../.."
REQ=operator/build/docs-requirements.txt
CACHE_ROOT="${SRO_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/secrets-rotation-operator}"
VENV="$CACHE_ROOT/docs-venv-$(sha256sum "$REQ" | cut -c1-12)"

say() { printf '[docs] %s\n' "$*" >&2; }
# In test mode a tool we cannot get is a skip with its reason; otherwise an error.
unavailable() {
  if [ "$mode" = test ]; then say "SKIPPED: the strict docs build did not run: $*"; exit 0; fi
  say "ERROR: $*"; exit 1
}

install_venv() {
  command -v python3 >/dev/null 2>&1 || unavailable "python3 is missing ('apt-get install python3 python3-venv')"
  python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || unavailable "python3-venv is missing ('apt-get install python3-venv')"
  say "installing MkDocs and Material (pinned, $REQ) into $VENV…"
  local partial="$VENV.partial.$$" log
  rm -rf "$partial"
  mkdir -p "$CACHE_ROOT"
  python3 -m venv "$partial"
  log=$("$partial/bin/pip" install --quiet --disable-pip-version-check --retries 2 --timeout 30 -r "$REQ" 2>&1) || {
    rm -rf "$partial"
    printf '%s\n' "$log" | tail -n 5 >&2
    # pip's own words when it cannot reach its index (configured in pip.conf or PIP_INDEX_URL).
    if grep -qE 'NewConnectionError|Failed to establish|Max retries exceeded|ProxyError|ConnectTimeout|ReadTimeout|Temporary failure in name resolution|SSLError' <<<"$log"; then
      unavailable "pip cannot reach its package index (offline? set PIP_INDEX_URL to a mirror)"
    fi
    say "ERROR: pip could not install $REQ (above)"; exit 1
  }
  rm -rf "$VENV"
  mv "$partial" "$VENV"
}

# A venv moved after creation keeps its old paths in its scripts: run mkdocs through its python.
[ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import mkdocs, material' 2>/dev/null || install_venv
# Not --quiet: MkDocs 1.6 then stops counting warnings, and --strict passes a broken link.
NO_MKDOCS_2_WARNING=1 exec "$VENV/bin/python" -m mkdocs build --strict --site-dir site
