#!/usr/bin/env bash
# Start a private clamd on a unix socket with a local signature database: the EICAR test file and
# the test files of Debian's clamav-testfiles (freshclam cannot reach its mirrors here). Prints the
# socket path. Usage: scripts/clamd-local.sh DIR
set -euo pipefail
dir=${1:?usage: clamd-local.sh DIR}
mkdir -p "$dir/db"
sigs="$dir/db/cairn-local.hdb"
: > "$sigs"
eicar='X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'
printf '%s:%s:Eicar-Test-Signature\n' "$(printf '%s' "$eicar" | md5sum | cut -d' ' -f1)" "${#eicar}" >> "$sigs"
if [ -d /usr/share/clamav-testfiles ]; then
  for f in /usr/share/clamav-testfiles/*; do
    [ -f "$f" ] || continue
    printf '%s:%s:Clamav.Test.File-%s\n' "$(md5sum "$f" | cut -d' ' -f1)" "$(stat -c %s "$f")" "$(basename "$f" | tr -c 'A-Za-z0-9\n' '_')" >> "$sigs"
  done
fi
cat > "$dir/clamd.conf" <<CONF
DatabaseDirectory $dir/db
LocalSocket $dir/clamd.sock
Foreground no
PidFile $dir/clamd.pid
LogFile $dir/clamd.log
StreamMaxLength 64M
MaxThreads 4
CONF
clamd --config-file="$dir/clamd.conf"
for _ in $(seq 1 100); do [ -S "$dir/clamd.sock" ] && break; sleep 0.1; done
[ -S "$dir/clamd.sock" ] || { echo "clamd did not start" >&2; cat "$dir/clamd.log" >&2; exit 1; }
echo "$dir/clamd.sock"
