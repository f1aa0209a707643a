#!/usr/bin/env bash
# Make sure the PostgreSQL the tests use is reachable. Start a local cluster if one is
# installed but stopped. In CI (CI=true) an unreachable server is a failure, never a skip.
set -u
url="${HAZARDFLOW_TEST_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/test}"
py="${PYTHON:-.venv/bin/python}"

reachable() {
  "$py" - "$url" <<'PY' >/dev/null 2>&1
import sys, psycopg
psycopg.connect(sys.argv[1], connect_timeout=3).close()
PY
}

reachable && exit 0
if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
  echo "PostgreSQL is not answering at $url; starting the local cluster" >&2
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
  for _ in 1 2 3 4 5 6 7 8 9 10; do reachable && exit 0; sleep 1; done
fi
if [ "${CI:-}" = "true" ]; then
  echo "FATAL: PostgreSQL is unreachable at $url and CI=true: the PostgreSQL tests must run" >&2
  exit 1
fi
echo "WARNING: PostgreSQL is unreachable at $url; its tests will be skipped" >&2
exit 0
