#!/bin/sh
# test.sh: the README's second command. On a fresh Debian 12 machine it
# installs what is missing, builds postern twice (build/: the normal build;
# build-asan/: AddressSanitizer + UndefinedBehaviorSanitizer) and runs
# every test against both. The last line of output is "N passed, N failed,
# N skipped"; the exit status is non-zero if anything failed.
set -eu
cd "$(dirname "$0")"
TOP=$(pwd)
PKGS="build-essential autoconf automake pkg-config libssl-dev ca-certificates
      python3 python3-aiosmtpd strace git openssl passwd util-linux procps
      php-cli php-symfony-mailer s-nail cron time
      clang libclang-rt-14-dev valgrind"
. ./tests/tools/deps.sh
. ./tests/tools/build.sh
echo "building build/ and build-asan/ ..."
build build
build build-asan --enable-sanitizers

export ASAN_OPTIONS=detect_leaks=1:exitcode=70
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
TOP_SRCDIR=$TOP TOP_BUILDDIR=$TOP/build SANITIZER_BUILDDIR=$TOP/build-asan \
	exec sh tests/run.sh
