#!/bin/sh
# build.sh - configure and build ThrottleBot in the source tree (warnings are errors).
set -eu
cd "$(dirname "$0")/.."
[ -x configure ] || ./autogen.sh >/dev/null
[ -f Makefile ] || ./configure --enable-werror -q
make -s -j"$(nproc)"
