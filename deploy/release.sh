#!/bin/sh
# The release step (docs/operations.md): run once per release, before the new web processes,
# workers and scheduler start, never at web start. Migrates the schema as its owner
# (MIGRATION_DATABASE_URL, else DATABASE_URL), then gives the application's role
# (APP_DATABASE_ROLE, when the app connects as a role of its own) the privileges of the new
# schema. Both are idempotent: a release run twice changes nothing the second time.
set -eu
claims-portal db upgrade
if [ -n "${APP_DATABASE_ROLE:-}" ]; then
  claims-portal db grant-app-role "$APP_DATABASE_ROLE"
fi
