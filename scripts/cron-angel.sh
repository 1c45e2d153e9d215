#!/bin/sh
# Keep the talker's angel running: run this from cron every few minutes.
# It starts the angel (which starts the talker) unless one is already
# running, in which case it says so and exits 0 (and, if that angel runs
# another version than TALKER_BIN, has it re-execute in place from
# TALKER_BIN: `talker angel upgrade`, which keeps every connection). It
# never undoes a deliberate 'talker stop'.
#
#   */5 * * * * /home/talker/talker-src/scripts/cron-angel.sh
#
# TALKER_BIN and TALKER_DATA override the defaults below. The talker's
# settings belong in DATA/talker.toml; extra arguments here are flags that
# would win over that file for as long as the angel runs.
set -eu
TALKER_BIN=${TALKER_BIN:-$HOME/bin/talker}
TALKER_DATA=${TALKER_DATA:-$HOME/talker-data}
exec "$TALKER_BIN" angel --detach --data "$TALKER_DATA" "$@"
