#!/usr/bin/env bash
# The first look: simulate months of all six cities, serve the two HTTP feeds,
# ingest everything once and show what was loaded. Run through `make demo`.
set -euo pipefail
bin="$(cd "$(dirname "$0")/.." && pwd)/.venv/bin"
export EGOVSAD_MARBURG_TOKEN="${EGOVSAD_MARBURG_TOKEN:-demo-token}"
inbox="$EGOVSAD_HOME/inbox"

echo "== simulating ${DEMO_MONTHS} months of six cities into $inbox"
"$bin/egovsad" simulate --out "$inbox" --months "$DEMO_MONTHS" --seed 1

echo "== serving Marburg's API and Limburg's export on 127.0.0.1:${FEED_PORT}"
"$bin/egovsad" simulate --serve --out "$inbox" --port "$FEED_PORT" --token "$EGOVSAD_MARBURG_TOKEN" &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  (exec 3<>"/dev/tcp/127.0.0.1/$FEED_PORT") 2>/dev/null && break
  sleep 0.1
done

echo "== ingesting all six cities"
"$bin/egovsad" ingest || echo "(some cities failed, see above)"

echo "== loaded events and daily counts per city"
"$bin/egovsad" sql "SELECT d.city, min(d.day) AS first_day, max(d.day) AS last_day,
  sum(d.started) AS started, sum(d.submitted) AS submitted, sum(d.completed) AS completed,
  (SELECT count(*) FROM events e WHERE e.city = d.city) AS events
  FROM daily d GROUP BY d.city ORDER BY d.city"
echo "== quarantine"
"$bin/egovsad" quarantine
echo "== freshness"
"$bin/egovsad" status || true
echo "== digital take-up per city (last 12 full months)"
"$bin/egovsad" kpi digital_takeup --by city
echo
echo "Home folder: $EGOVSAD_HOME (settings in egovsad.toml)."
echo "Try: EGOVSAD_HOME=$EGOVSAD_HOME $bin/egovsad kpi --list"
