#!/usr/bin/env bash
# Install a new release of Outreach and switch to it:   sudo deploy/release.sh SOURCE_DIR
#
# SOURCE_DIR is a checkout of the version to release (a git checkout: its committed files; otherwise the
# whole folder less .venv, node_modules, instance and static/vendor). The steps, each stopping the
# release if it fails, so `current` keeps pointing at the running release until the last step:
#   1. copy the code into $OUTREACH_HOME/releases/<UTC time>/
#   2. a new virtualenv there with requirements.txt only (pinned and hashed: no test tools, no browser)
#   3. compile the translations; fill static/vendor/ (npm ci, or a copy from $OUTREACH_VENDOR_FROM)
#   4. `flask db upgrade` with the NEW code, before it serves (migrations must let the running
#      release keep working until step 6: add columns and tables first, drop old ones a release later)
#   5. point $OUTREACH_HOME/current at the new release (one atomic rename)
#   6. restart the web server and the scheduler ($OUTREACH_RESTART)
#   7. keep the $OUTREACH_KEEP_RELEASES newest releases
# Roll back: point `current` at the previous release and restart (a migration that dropped something
# needs its downgrade first).
set -euo pipefail

SOURCE=$(cd "${1:?usage: deploy/release.sh SOURCE_DIR}" && pwd)
OUTREACH_HOME=${OUTREACH_HOME:-/srv/outreach}
OUTREACH_ENV=${OUTREACH_ENV:-/etc/outreach/outreach.env}
OUTREACH_USER=${OUTREACH_USER:-outreach}
OUTREACH_RESTART=${OUTREACH_RESTART:-systemctl restart outreach-web outreach-scheduler}
OUTREACH_KEEP_RELEASES=${OUTREACH_KEEP_RELEASES:-5}
OUTREACH_WHEELHOUSE=${OUTREACH_WHEELHOUSE:-}   # a folder of wheels (pip download): no registry needed
OUTREACH_VENDOR_FROM=${OUTREACH_VENDOR_FROM:-} # a filled static/vendor/: no npm needed
PYTHON=${PYTHON:-python3}

say() { printf '[release] %s\n' "$*"; }

# The settings, as systemd reads them: KEY=value lines, optionally quoted; # starts a comment.
load_env() {
  local line key value
  while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in '' | '#'*) continue ;; esac
    key=${line%%=*}
    value=${line#*=}
    case "$value" in \"*\") value=${value:1:-1} ;; \'*\') value=${value:1:-1} ;; esac
    export "$key=$value"
  done <"$1"
}

stamp=$(date -u +%Y%m%dT%H%M%SZ)
release="$OUTREACH_HOME/releases/$stamp"
[ ! -e "$release" ] || { echo "$release exists already" >&2; exit 1; }
mkdir -p "$OUTREACH_HOME/releases" "$OUTREACH_HOME/shared/instance" "$release"
if id "$OUTREACH_USER" >/dev/null 2>&1; then chown "$OUTREACH_USER:" "$OUTREACH_HOME/shared/instance"; fi
trap 'say "failed: $release is left for a look; current is unchanged"' ERR

say "1/7 code from $SOURCE into $release"
if git -C "$SOURCE" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  (cd "$SOURCE" && git ls-files -z | while IFS= read -r -d '' file; do
    if [ -e "$file" ]; then printf '%s\0' "$file"; fi
  done | tar --null -T - -cf -) | tar -xf - -C "$release"
  git -C "$SOURCE" rev-parse HEAD >"$release/REVISION"
else
  tar -C "$SOURCE" --exclude=./.venv --exclude=./node_modules --exclude=./instance --exclude=./static/vendor \
    -cf - . | tar -xf - -C "$release"
fi

say "2/7 virtualenv with requirements.txt (runtime only)"
"$PYTHON" -m venv "$release/.venv"
if [ -n "$OUTREACH_WHEELHOUSE" ]; then
  "$release/.venv/bin/pip" install --quiet --no-index --find-links "$OUTREACH_WHEELHOUSE" \
    --require-hashes -r "$release/requirements.txt"
else
  "$release/.venv/bin/pip" install --quiet --require-hashes -r "$release/requirements.txt"
fi
"$release/.venv/bin/pip" check

say "3/7 translations and the maps' libraries"
"$release/.venv/bin/pybabel" compile --statistics -d "$release/outreach/translations" >/dev/null
if [ -n "$OUTREACH_VENDOR_FROM" ]; then
  cp -a "$OUTREACH_VENDOR_FROM" "$release/static/vendor"
else
  (cd "$release" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error &&
    .venv/bin/python -c 'from outreach.maps.assets import install; install()' && rm -rf node_modules)
fi
ln -sfn "$OUTREACH_HOME/shared/instance" "$release/instance"

say "4/7 flask db upgrade (the new code's migrations, before it serves)"
(
  load_env "$OUTREACH_ENV"
  cd "$release" && .venv/bin/flask --app outreach db upgrade
)

say "5/7 current -> releases/$stamp"
ln -sfn "releases/$stamp" "$OUTREACH_HOME/current.new"
mv -T "$OUTREACH_HOME/current.new" "$OUTREACH_HOME/current"

say "6/7 restart: $OUTREACH_RESTART"
eval "$OUTREACH_RESTART"

say "7/7 keep the $OUTREACH_KEEP_RELEASES newest releases"
find "$OUTREACH_HOME/releases" -mindepth 1 -maxdepth 1 -type d | sort | head -n "-$OUTREACH_KEEP_RELEASES" |
  while read -r old; do [ "$old" = "$release" ] || rm -rf "$old"; done
say "released $stamp"
