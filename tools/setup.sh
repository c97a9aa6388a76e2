#!/usr/bin/env bash
# Makes a fresh Debian bookworm machine ready for softpool: apt packages (Mesa lavapipe from
# bookworm-backports for the WebGPU tests, Chromium for browser tests), the pinned pnpm, dependencies.
# Idempotent; run as root (or with sudo available). Never writes an archive host name: the backports
# source is derived from the machine's own Debian source stanza.
set -euo pipefail

PNPM_VERSION=12.4.2
export DEBIAN_FRONTEND=noninteractive TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

# 1. bookworm-backports, copied from the machine's own Debian stanza (Mesa 25 lives there).
add_backports() {
  local dir=/etc/apt/sources.list.d
  if grep -rqs 'bookworm-backports' /etc/apt/sources.list "$dir"; then return; fi
  local src="$dir/debian.sources"
  if [ ! -f "$src" ]; then
    echo "setup: $src not found; add bookworm-backports by hand for Mesa 25" >&2
    return
  fi
  # First stanza that lists the plain 'bookworm' suite, with its Suites line rewritten.
  awk 'BEGIN { RS = ""; ORS = "\n" }
       $0 ~ /Suites:[^\n]*bookworm([ \n]|$)/ && !done {
         sub(/Suites:[^\n]*/, "Suites: bookworm-backports"); print; done = 1 }' "$src" \
    | $SUDO tee "$dir/bookworm-backports.sources" >/dev/null
}

apt_packages() {
  local want=(mesa-vulkan-drivers libvulkan1 chromium)
  local missing=()
  for p in "${want[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  # Mesa must come from backports: bookworm's 22.3 lavapipe is too old for Dawn.
  local mesa
  mesa=$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || true)
  if [ ${#missing[@]} -eq 0 ] && [[ "$mesa" == 25* ]]; then return; fi
  add_backports
  $SUDO apt-get update -qq || true
  $SUDO apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers libvulkan1
  $SUDO apt-get install -y -qq chromium
}

install_pnpm() {
  if [ "$(pnpm --version 2>/dev/null || true)" != "$PNPM_VERSION" ]; then
    $SUDO npm install -g --no-fund --no-audit "pnpm@$PNPM_VERSION"
  fi
}

apt_packages
install_pnpm
pnpm install --frozen-lockfile
echo "setup: ready (node $(node --version), pnpm $(pnpm --version))"
