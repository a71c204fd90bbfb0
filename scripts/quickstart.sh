#!/bin/sh
# quickstart.sh - install what is needed, build and install ThrottleBot, and run the quickstart experiment.
set -eu
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
make -s install >/dev/null
throttlebot run etc/examples/quickstart.conf "$@"
