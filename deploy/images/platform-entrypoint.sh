#!/bin/sh
# thr-platform serve     the API and the web app (MIGRATE_ON_START=true: apply migrations first)
# thr-platform migrate   apply pending migrations and exit (an init container or a one-shot job)
# Replicas starting together are safe: the migrator holds an advisory lock while it applies.
set -eu
cd /app
case "${1:-serve}" in
  migrate) exec node api/dist/db/migrate-cli.js ;;
  serve)
    if [ "${MIGRATE_ON_START:-false}" = true ]; then node api/dist/db/migrate-cli.js; fi
    exec node api/dist/main.js ;;
  health) shift; exec node api/dist/health/cli.js "$@" ;;
  *) exec "$@" ;;
esac
