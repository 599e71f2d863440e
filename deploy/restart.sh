#!/bin/sh
# `make run`'s supervisor for one service: runs the command, and runs it again whenever it exits
# (crash, kill -9, startup given up), waiting 1 s, 2 s, 4 s … at most 30 s between restarts
# (back to 1 s after a run of a minute or more). honcho stops all five processes when one exits;
# with this wrapper only SIGINT/SIGTERM (Ctrl-C, honcho stopping) ends it.
# Usage: deploy/restart.sh atiende serve intake
stopping=0
child=0
stop() {
    stopping=1
    [ "$child" -ne 0 ] && kill -TERM "$child" 2>/dev/null
}
trap stop INT TERM
delay=1
while :; do
    started=$(date +%s)
    "$@" &
    child=$!
    wait "$child"
    status=$?
    # a trap interrupts `wait`: wait again until the child has really finished
    while kill -0 "$child" 2>/dev/null; do wait "$child"; done
    child=0
    [ "$stopping" -eq 1 ] && exit 0
    if [ "$status" -eq 78 ]; then
        # EX_CONFIG (e.g. no authentication configured): starting again would refuse again
        echo "restart.sh: '$*' refused its configuration (status 78); not restarting it" >&2
        exit 78
    fi
    [ $(($(date +%s) - started)) -ge 60 ] && delay=1
    echo "restart.sh: '$*' exited with status $status; starting it again in ${delay}s" >&2
    sleep "$delay" &
    child=$!
    wait "$child"
    child=0
    [ "$stopping" -eq 1 ] && exit 0
    delay=$((delay * 2 > 30 ? 30 : delay * 2))
done
