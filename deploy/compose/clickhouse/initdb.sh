#!/bin/bash
# The read-only analyst user for Grafana and the cookbook (docs/analysts.md); the official
# image runs this once, when the data volume is new. The writer is CLICKHOUSE_USER.
set -euo pipefail
clickhouse-client --user "$CLICKHOUSE_USER" --password "$CLICKHOUSE_PASSWORD" --multiquery <<SQL
CREATE DATABASE IF NOT EXISTS earshot;
CREATE USER IF NOT EXISTS analyst IDENTIFIED WITH sha256_password BY '${ANALYST_PASSWORD}' SETTINGS readonly = 1;
GRANT SELECT ON earshot.* TO analyst;
SQL
