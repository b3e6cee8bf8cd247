# shellcheck shell=bash
# Shared by tools/test and tools/demo (sourced, not run): install what is missing, then build.
# Works as root on a fresh Debian 12 with no terminal; does nothing that is already done.

SYNCD_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

# Debian packages, each with the command that makes it unnecessary when already on PATH (npm and
# node may come from NodeSource instead of Debian; python3 may be a pyenv shim).
SYNCD_APT_PACKAGES=(
  libboost1.81-dev:- meson:meson ninja-build:ninja nlohmann-json3-dev:- libpugixml-dev:-
  doctest-dev:- libssl-dev:- pkg-config:pkg-config g++:g++ openssl:openssl
  nodejs:node npm:npm python3:python3 time:-
)

syncd_log() { echo "== $*" >&2; }

syncd_as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

syncd_apt_install() {
  syncd_log "apt-get install $*"
  syncd_as_root apt-get update -q
  syncd_as_root env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends "$@"
}

syncd_install_deps() {
  local entry pkg cmd missing=()
  for entry in "${SYNCD_APT_PACKAGES[@]}"; do
    pkg="${entry%%:*}" cmd="${entry#*:}"
    if [ "$cmd" != - ] && command -v "$cmd" >/dev/null; then continue; fi
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then syncd_apt_install "${missing[@]}"; fi

  if ! python3 -c 'import boto3, moto' 2>/dev/null || ! command -v moto_server >/dev/null; then
    python3 -m pip --version >/dev/null 2>&1 || syncd_apt_install python3-pip
    syncd_log "pip install 'moto[server]' boto3"
    python3 -m pip install -q 'moto[server]' boto3 ||
      python3 -m pip install -q --break-system-packages 'moto[server]' boto3
    hash -r
  fi

  # s3rver, pinned by package-lock.json; npm writes node_modules/.package-lock.json on install.
  local ts="$SYNCD_ROOT/tools/testserver"
  if [ ! -x "$ts/node_modules/.bin/s3rver" ] ||
     [ "$ts/package-lock.json" -nt "$ts/node_modules/.package-lock.json" ]; then
    syncd_log "npm ci in tools/testserver"
    (cd "$ts" && npm ci --no-audit --no-fund)
  fi
}

# syncd_build DIR [meson option...]: configure DIR (reconfigure it if it exists, start afresh if
# that fails) and compile. Options given once stay set on later reconfigures.
syncd_build() {
  local dir="$1"; shift
  local opts=(--buildtype=debugoptimized "$@")
  cd "$SYNCD_ROOT" || return 1
  if [ -f "$dir/meson-private/coredata.dat" ] &&
     meson setup --reconfigure "${opts[@]}" "$dir"; then
    :
  else
    if [ -e "$dir" ] && [ ! -d "$dir/meson-private" ] && [ -n "$(ls -A "$dir" 2>/dev/null)" ]; then
      echo "$dir is not a Meson build directory; not replacing it" >&2
      return 1
    fi
    syncd_log "meson setup $dir (fresh)"
    rm -rf "$dir"
    meson setup "${opts[@]}" "$dir" || return 1
  fi
  syncd_log "meson compile -C $dir"
  meson compile -C "$dir"
}
