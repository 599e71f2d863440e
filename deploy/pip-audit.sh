#!/usr/bin/env bash
# `make audit`: every locked third-party package (all services, libs and dev tools, from uv.lock)
# checked against an advisory database by pip-audit, minus the accepted advisories listed in
# deploy/pip-audit-ignore.txt (each with its reason).
#
# Exit status: 0 = audited, nothing known (or every finding accepted); 1 = known vulnerabilities
# (or an ignore entry without a reason); 0 with a NOT AUDITED banner when the advisory service or
# pip-audit itself cannot be reached — set AUDIT_STRICT=1 (CI with network) to make that 2.
# PIP_AUDIT_SERVICE picks the database: osv (default, api.osv.dev) or pypi (pypi.org's JSON API).
set -uo pipefail
cd "$(dirname "$0")/.."

UV="${UV:-$(command -v uv 2>/dev/null || echo "$HOME/.local/bin/uv")}"
PIP_AUDIT="pip-audit@2.10.1"
SERVICE="${PIP_AUDIT_SERVICE:-osv}"
IGNORE_FILE="deploy/pip-audit-ignore.txt"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

not_audited() {
  echo "======================================================================"
  echo " NOT AUDITED: $1"
  echo " No vulnerability check happened; this is not a clean result."
  echo "======================================================================"
  [[ "${AUDIT_STRICT:-0}" == "1" ]] && exit 2
  exit 0
}

ignores=()
while IFS= read -r line; do
  entry="${line%%#*}"
  entry="${entry//[[:space:]]/}"
  [[ -z "$entry" ]] && continue
  reason="${line#*#}"
  if [[ "$line" != *"#"* || -z "${reason//[[:space:]]/}" ]]; then
    echo "$IGNORE_FILE: '$entry' has no reason (write: ID  # why)" >&2
    exit 1
  fi
  ignores+=(--ignore-vuln "$entry")
done < <(grep -v '^[[:space:]]*#' "$IGNORE_FILE")

# the lock as pinned requirements; workspace members are ours, not on any index
"$UV" export --frozen --no-hashes --format requirements-txt --all-packages --all-groups \
  --no-emit-workspace --quiet -o "$work/requirements.txt" || exit 1
packages=$(grep -cE '^[A-Za-z0-9]' "$work/requirements.txt")

"$UV" tool run "$PIP_AUDIT" --version >/dev/null 2>"$work/install.log" \
  || not_audited "$PIP_AUDIT could not be installed ($(tail -n 1 "$work/install.log"))"

echo "auditing $packages locked packages against $SERVICE (accepted advisories: $(( ${#ignores[@]} / 2 )))"
"$UV" tool run "$PIP_AUDIT" -r "$work/requirements.txt" --no-deps --disable-pip --strict \
  --vulnerability-service "$SERVICE" --timeout 10 --progress-spinner off --desc on \
  --format json --output "$work/report.json" "${ignores[@]}" 2>"$work/stderr.log"
status=$?

found=0
if [[ -s "$work/report.json" ]]; then
  found=$(python3 - "$work/report.json" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
found = 0
for dep in report.get("dependencies", []):
    for vuln in dep.get("vulns", []):
        found += 1
        fix = ", ".join(vuln.get("fix_versions") or []) or "no fixed version"
        aliases = ", ".join(vuln.get("aliases") or [])
        print(f"{dep['name']} {dep['version']}: {vuln['id']} ({aliases}) fixed in: {fix}", file=sys.stderr)
print(found)
PY
)
fi

if (( found > 0 )); then
  echo "$found known vulnerabilities (above). Upgrade (uv lock --upgrade-package NAME) or, if one" >&2
  echo "truly does not apply, add it to $IGNORE_FILE with the reason." >&2
  exit 1
fi
if (( status == 0 )); then
  echo "no known vulnerabilities in $packages locked packages ($SERVICE)"
  exit 0
fi
if grep -qE "could not be audited|ConnectionError|NameResolution|Max retries|timed out|Temporary failure" "$work/stderr.log"; then
  not_audited "the advisory service ($SERVICE) cannot be reached from here: $(grep -m1 -oE "(Dependency not found on PyPI and could not be audited|Failed to resolve '[^']*'|Max retries[^(]*|timed out)" "$work/stderr.log")"
fi
cat "$work/stderr.log" >&2
exit "$status"
