#!/bin/sh
# Runs once, when the PostgreSQL container creates its data directory: the service's own role,
# which owns the service's database but is not a superuser.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v app_password="$APP_DB_PASSWORD" <<'SQL'
CREATE ROLE dynamics365_connector LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'app_password';
CREATE DATABASE dynamics365_connector OWNER dynamics365_connector;
SQL
