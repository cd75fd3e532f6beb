#!/usr/bin/env bash
# Regenerates docs/digest.png: the first-run example digest, rendered by headless Chromium.
# Needs Debian's chromium (apt-get install chromium) and followup installed.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
printf '[workbook]\npath = "contacts.xlsx"\n[digest]\nname = "Alex"\n' > "$work/config.toml"
(cd "$work" && followup run --today 2026-03-11 >/dev/null)
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$work/profile" --window-size=760,1330 --hide-scrollbars \
  --screenshot="$root/docs/digest.png" "file://$work/outbox/2026-03-11 Follow-ups.html" 2>/dev/null
echo "$root/docs/digest.png"
