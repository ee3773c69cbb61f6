#!/bin/sh
# The PostgreSQL 15 of the compose file (image localhost/netsnoop-postgres:15, made from
# Debian's packages by scripts/build-image.sh). On its first start it makes the cluster
# in /var/lib/postgresql/data with a role and database `netsnoop` whose password is
# POSTGRES_PASSWORD (scram-sha-256 over TCP); then it runs PostgreSQL in the foreground on
# PGLISTEN (default localhost) port PGPORT (default 5432).
set -eu
: "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD to the password of the netsnoop role}"
data=/var/lib/postgresql/data
bin=/usr/lib/postgresql/15/bin
if [ ! -s "$data/PG_VERSION" ]; then
  "$bin/initdb" -D "$data" -U postgres -E UTF8 --auth-local=trust --auth-host=scram-sha-256 >/dev/null
  echo "host all all all scram-sha-256" >>"$data/pg_hba.conf"
  "$bin/pg_ctl" -D "$data" -o "-c listen_addresses='' -c unix_socket_directories=/tmp" -w start >/dev/null
  psql -h /tmp -U postgres -q -v ON_ERROR_STOP=1 -v pw="$POSTGRES_PASSWORD" <<'SQL'
CREATE ROLE netsnoop LOGIN PASSWORD :'pw';
CREATE DATABASE netsnoop OWNER netsnoop;
SQL
  "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null
  echo "netsnoop-postgres: made the cluster with role and database netsnoop" >&2
fi
exec "$bin/postgres" -D "$data" -c listen_addresses="${PGLISTEN:-localhost}" \
  -c port="${PGPORT:-5432}" -c unix_socket_directories=/tmp
