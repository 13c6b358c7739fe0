#!/usr/bin/env bash
# The first look: simulate months of all six cities, serve the two HTTP feeds, ingest
# everything, show what was loaded, then run the scheduler and the dashboard with one
# demo user per role until Ctrl+C. Run through `make demo`.
set -euo pipefail
bin="$(cd "$(dirname "$0")/.." && pwd)/.venv/bin"
export EGOVSAD_MARBURG_TOKEN="${EGOVSAD_MARBURG_TOKEN:-demo-token}"
inbox="$EGOVSAD_HOME/inbox"
port="${DASHBOARD_PORT:-8050}"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true' EXIT

echo "== simulating ${DEMO_MONTHS} months of six cities into $inbox"
"$bin/egovsad" simulate --out "$inbox" --months "$DEMO_MONTHS" --seed 1

echo "== serving Marburg's API and Limburg's export on 127.0.0.1:${FEED_PORT}"
"$bin/egovsad" simulate --serve --out "$inbox" --port "$FEED_PORT" --token "$EGOVSAD_MARBURG_TOKEN" &
pids+=($!)
for _ in $(seq 50); do
  (exec 3<>"/dev/tcp/127.0.0.1/$FEED_PORT") 2>/dev/null && break
  sleep 0.1
done

echo "== ingesting all six cities"
"$bin/egovsad" ingest 2>/dev/null || echo "(some cities failed, see above)"

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

if [ "${DEMO_SERVE:-1}" = "0" ]; then
  exit 0
fi
echo "== demo users (password for all: demo-passwort)"
for spec in "mayor:mayor:marburg" "officer:officer:giessen" "analyst:analyst:fulda" "admin:admin:"; do
  IFS=: read -r user role city <<< "$spec"
  city_option=()
  [ -n "$city" ] && city_option=(--city "$city")
  echo "demo-passwort" | "$bin/egovsad" users add "$user" --role "$role" "${city_option[@]}" --password-stdin \
    2>/dev/null || true
done
"$bin/egovsad" users list

echo "== scheduler and dashboard (Ctrl+C stops both)"
"$bin/egovsad" schedule 2>>"$EGOVSAD_HOME/logs/demo-scheduler.log" &
pids+=($!)
echo
echo "Dashboard: http://127.0.0.1:${port}/  (users mayor, officer, analyst, admin; password demo-passwort)"
echo "Home folder: $EGOVSAD_HOME (settings in egovsad.toml)."
"$bin/egovsad" serve --port "$port" --workers 2
