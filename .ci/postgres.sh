#!/usr/bin/env bash
# A throwaway PostgreSQL server for the audience tests, on a loopback port, run as the postgres user
# (PostgreSQL refuses to run as root, and CI runs as root).
#
#   eval "$(.ci/postgres.sh start)"   # installs Debian's postgresql when missing, prints an export line
#   .ci/postgres.sh stop              # stops the server and removes its data folder
#
# The DSN is exported as PERSONALIZATION_ENGINE_TEST_PG_DSN. Connections over TCP need a password
# (scram-sha-256, a random one per start), so the tests can check what a wrong password does.
set -euo pipefail
state=${PE_PG_STATE:-/tmp/personalization-engine-pg}
port=${PE_PG_PORT:-54329}

bin_dir() {
  local found
  found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -z "$found" ]; then
    echo "installing postgresql" >&2
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
    found=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  fi
  echo "$found"
}

as_postgres() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

case "${1:-}" in
  start)
    bin=$(bin_dir)
    if [ -f "$state/data/postmaster.pid" ]; then
      as_postgres "$bin/pg_ctl" -D "$state/data" -m fast stop >&2 || true
    fi
    rm -rf "$state"
    mkdir -p "$state"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$state"
    password=$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')
    printf '%s\n' "$password" >"$state/pwfile"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$state/pwfile"
    as_postgres "$bin/initdb" -D "$state/data" -U postgres --pwfile="$state/pwfile" \
      --auth-local=trust --auth-host=scram-sha-256 --no-sync -E UTF8 >/dev/null
    rm -f "$state/pwfile"
    as_postgres "$bin/pg_ctl" -D "$state/data" -l "$state/server.log" -w \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $state -c fsync=off" start >&2
    echo "export PERSONALIZATION_ENGINE_TEST_PG_DSN=postgresql://postgres:$password@127.0.0.1:$port/postgres"
    ;;
  stop)
    bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -n "$bin" ] && [ -f "$state/data/postmaster.pid" ]; then
      as_postgres "$bin/pg_ctl" -D "$state/data" -m fast stop >&2 || true
    fi
    rm -rf "$state"
    ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
