#!/usr/bin/env bash
# Installs the Debian packages the test suite needs and npm does not bring, if they are missing:
#   chromium  the browser tests of the live view (test/browser/)
#   irssi     a person's IRC client, driven in tmux (test/irc/irssi.test.ts)
#   tmux      the terminal irssi runs in: send-keys to type, capture-pane to read the screen
#   openssl   certificates for the TLS tests
#   redis-server  the shared network state of IRC nodes (test/redis/)
#   postgresql    the PostgreSQL store: its tests run their own cluster (test/store/postgres.test.ts)
# One line per package. apt-get runs only when something is missing. Not root and something
# missing: prints the command to run and exits 1. Safe to run again and again.
set -euo pipefail

# package:command pairs (the command that proves the package is there)
wanted=(chromium:chromium irssi:irssi tmux:tmux openssl:openssl redis-server:redis-server postgresql:initdb)

# ngircd lives in /usr/sbin, which a non-root PATH may lack.
PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

# Where a command is: on PATH, or else in Debian's versioned PostgreSQL directory
# (/usr/lib/postgresql/<version>/bin, which holds initdb and is not on PATH), newest first.
locate() {
  command -v "$1" 2>/dev/null && return
  ls -1d /usr/lib/postgresql/*/bin/"$1" 2>/dev/null | sort -V | tail -n1 | grep .
}

version() {
  case "$1" in
    chromium) chromium --version 2>/dev/null | head -n1 ;;
    irssi) irssi --version 2>/dev/null | head -n1 ;;
    tmux) tmux -V 2>/dev/null ;;
    openssl) openssl version 2>/dev/null ;;
    redis-server) redis-server --version 2>/dev/null | cut -d' ' -f1-3 ;;
    postgresql) "$(locate initdb)" --version 2>/dev/null | head -n1 ;;
  esac
}

missing=()
for pair in "${wanted[@]}"; do
  pkg="${pair%%:*}" cmd="${pair#*:}"
  if locate "$cmd" >/dev/null; then
    echo "$pkg: found ($(version "$pkg"))"
  else
    missing+=("$pkg")
  fi
done
[ "${#missing[@]}" -eq 0 ] && exit 0

install="DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "missing: ${missing[*]}; as root, run: apt-get update -qq && $install" >&2
  exit 1
fi

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"; } >"$log" 2>&1; then
  cat "$log" >&2
  echo "failed: apt-get update -qq && $install" >&2
  exit 1
fi
for pkg in "${missing[@]}"; do
  echo "$pkg: installed ($(version "$pkg"))"
done
