#!/usr/bin/env bash
# Builds thr-platform and thr-runner from this checkout with podman (or ENGINE=docker).
#
#   deploy/images/build.sh [--tag T] [--harbor real|simulator] [--local-bases]
#
#   --tag T          image tag (default: the checkout's short commit)
#   --harbor         real (default): Harbor from PyPI; simulator: the project's Harbor simulator (tests)
#   --local-bases    first make stand-ins of the official base images where no registry is reachable
#                    (deploy/images/local-bases/build.sh)
#
# The host's npm registry and extra CA (NODE_EXTRA_CA_CERTS) are passed to `npm ci` in the build,
# and with podman the host's npm cache is lent read-only (an overlay), so a warm host builds offline.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
engine=${ENGINE:-podman}
tag=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo dev)
harbor=real
while [ $# -gt 0 ]; do
  case "$1" in
    --tag) tag=$2; shift 2 ;;
    --harbor) harbor=$2; shift 2 ;;
    --local-bases) "$root/deploy/images/local-bases/build.sh"; shift ;;
    *) echo "unknown option $1 (see the top of $0)" >&2; exit 2 ;;
  esac
done
case "$harbor" in real | simulator) ;; *) echo "--harbor must be real or simulator, got $harbor" >&2; exit 2 ;; esac

args=(--network host --format docker -f "$root/deploy/images/Containerfile" --build-arg "HARBOR=$harbor")
registry=$(npm config get registry 2>/dev/null || true)
[ -n "$registry" ] && args+=(--build-arg "NPM_CONFIG_REGISTRY=$registry")
[ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -s "$NODE_EXTRA_CA_CERTS" ] && args+=(--secret "id=npm_ca,src=$NODE_EXTRA_CA_CERTS")
cache=$(npm config get cache 2>/dev/null || true)
[ "$engine" = podman ] && [ -d "$cache/_cacache" ] && args+=(--volume "$cache:/root/.npm:O")

for target in platform runner; do
  echo "[images] thr-$target:$tag (Harbor: $harbor)"
  "$engine" build "${args[@]}" --target "$target" -t "thr-$target:$tag" "$root"
done
