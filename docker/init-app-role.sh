#!/bin/sh
# Runs once, when the PostgreSQL container creates its data directory: two roles, neither a
# superuser — dynamics365_connector owns the service's database and runs its migrations
# (DATABASE_MIGRATION_URL); dynamics365_connector_runtime is the role the service runs as
# (DATABASE_URL): it only reads and writes rows, so it cannot disable the audit log's triggers.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v app_password="$APP_DB_PASSWORD" -v runtime_password="$APP_RUNTIME_DB_PASSWORD" <<'SQL'
CREATE ROLE dynamics365_connector LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'app_password';
CREATE ROLE dynamics365_connector_runtime LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'runtime_password';
CREATE DATABASE dynamics365_connector OWNER dynamics365_connector;
GRANT CONNECT ON DATABASE dynamics365_connector TO dynamics365_connector_runtime;
SQL
