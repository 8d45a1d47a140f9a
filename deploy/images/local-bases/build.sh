#!/usr/bin/env bash
# Stand-ins for the official base images, for machines that cannot reach a registry (CI here):
# each is built from a Debian root file system made locally and tagged under the official name, so
# deploy/images/Containerfile builds unchanged (podman uses a local image before it tries to pull),
# and deploy/compose.yaml runs with NATS_IMAGE=nats:2.9 and POSTGRES_IMAGE=postgres:15-bookworm (the
# versions Debian has). Where a registry is reachable, skip this: pull the real images.
#
#   deploy/images/local-bases/build.sh      makes whichever of them is missing (idempotent)
#
# Stand-in                              made from
#   docker.io/library/debian:bookworm-slim   mmdebstrap minbase + ca-certificates
#   docker.io/library/node:20-bookworm-slim  the host's node and npm (Node 20), user node (1000) as upstream
#   docker.io/library/docker:27-cli          Debian's docker.io client at /usr/local/bin/docker as upstream
#   docker.io/library/nats:2.9               Debian's nats-server (2.9) at /nats-server as upstream
#   docker.io/library/postgres:15-bookworm   Debian's PostgreSQL 15 with upstream's POSTGRES_* start-up
set -euo pipefail
if [ $# -gt 0 ]; then sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 2; fi
here=$(cd "$(dirname "$0")" && pwd)
log() { printf '[local-bases] %s\n' "$*"; }
have() { podman image exists "$1"; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if ! have docker.io/library/debian:bookworm-slim; then
  log "debian:bookworm-slim from mmdebstrap"
  mmdebstrap --quiet --variant=minbase --include=ca-certificates bookworm "$work/base.tar"
  podman import --quiet "$work/base.tar" docker.io/library/debian:bookworm-slim >/dev/null
fi

if ! have docker.io/library/node:20-bookworm-slim; then
  node_bin=$(command -v node)
  case "$("$node_bin" --version)" in v20.*) ;; *) log "the host's node is not Node 20"; exit 1 ;; esac
  npm_dir=$(cd "$(dirname "$(readlink -f "$(command -v npm)")")/.." && pwd)
  log "node:20-bookworm-slim from $node_bin and $npm_dir"
  mkdir -p "$work/node"
  cp "$node_bin" "$work/node/node"
  cp -r "$npm_dir" "$work/node/npm"
  podman build --quiet --network host -t docker.io/library/node:20-bookworm-slim -f "$here/node.Containerfile" "$work/node" >/dev/null
fi

for stand_in in docker:27-cli nats:2.9 postgres:15-bookworm; do
  if ! have "docker.io/library/$stand_in"; then
    log "$stand_in from Debian's packages"
    podman build --quiet --network host -t "docker.io/library/$stand_in" -f "$here/${stand_in%%:*}.Containerfile" "$here" >/dev/null
  fi
done
log "ready: $(podman images --format '{{.Repository}}:{{.Tag}}' | grep -E '^docker.io/library/(debian|node|docker|nats|postgres):' | sort | tr '\n' ' ')"
