#!/bin/sh
# tests/fuzz/build.sh OUTDIR: builds every libFuzzer target of tests/fuzz/
# (fuzz_*.c) into OUTDIR with clang -fsanitize=fuzzer,address,undefined,
# straight from the sources in src/ (the programs' main files left out).
#
# config.h comes from running the project's configure in OUTDIR/cfg with
# CC=clang, so the targets see the same HAVE_ macros as a real build; the
# BSD functions the C library lacks are compiled from src/compat/ as
# configure's LIBOBJS would. Objects are rebuilt only when their source
# or a header is newer. Needs clang and libclang-rt-14-dev (Debian 12:
# the "clang" package pulls both in) and libssl-dev.
set -eu
[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 64; }
top=$(cd "$(dirname "$0")/../.." && pwd)
out=$(mkdir -p "$1" && cd "$1" && pwd)
CC=${FUZZ_CC:-clang}
command -v "$CC" > /dev/null 2>&1 ||
	{ echo "$0: $CC not found (apt-get install clang)" >&2; exit 69; }

if [ ! -x "$top/configure" ]; then
	(cd "$top" && autoreconf -fi > /dev/null 2>&1) ||
		{ echo "$0: autoreconf failed in $top" >&2; exit 1; }
fi
if [ ! -f "$out/cfg/config.h" ] || [ "$top/configure" -nt "$out/cfg/config.h" ]; then
	mkdir -p "$out/cfg"
	(cd "$out/cfg" && CC=$CC "$top/configure" > configure.log 2>&1) || {
		tail -n 20 "$out/cfg/configure.log" >&2
		echo "$0: configure failed (see $out/cfg/configure.log)" >&2
		exit 1
	}
fi

SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
CFLAGS="-g -O1 -fno-omit-frame-pointer $SAN ${FUZZ_CFLAGS:-}"
CPPFLAGS="-I$out/cfg -I$top/src -I$top/src/compat
	-DPST_SYSCONFDIR=\"/nonexistent/etc\"
	-DPST_SBINDIR=\"/nonexistent/sbin\"
	-DPST_SPOOLDIR=\"/nonexistent/spool\""
LIBS=$(pkg-config --libs libssl libcrypto 2> /dev/null || echo "-lssl -lcrypto")

# Compiles FUZZ_JOBS (default 2) files at a time; any failure stops.
jobs=${FUZZ_JOBS:-2}
pids=
n=0
waitall() {
	for p in $pids; do
		wait "$p" || { echo "$0: compilation failed" >&2; exit 1; }
	done
	pids=
}

mkdir -p "$out/obj"
objs=
for src in "$top"/src/*.c "$top"/src/compat/*.c; do
	name=$(basename "$src" .c)
	case $name in
	sendmail|admin) continue ;;	# the programs' main()
	esac
	case $src in
	*/compat/*)
		m=$(echo "$name" | tr a-z A-Z)
		grep -q "^#define HAVE_$m 1" "$out/cfg/config.h" && continue
		name=compat_$name ;;
	esac
	obj=$out/obj/$name.o
	if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ] ||
	    [ -n "$(find "$top/src" -name '*.h' -newer "$obj" | head -n 1)" ]; then
		# fuzzer-no-link: coverage for the library code too
		# shellcheck disable=SC2086
		$CC $CPPFLAGS $CFLAGS -fsanitize=fuzzer-no-link -c "$src" \
		    -o "$obj.tmp" && mv "$obj.tmp" "$obj" &
		pids="$pids $!"
		n=$((n + 1))
		[ $n -ge "$jobs" ] && { waitall; n=0; }
	fi
	objs="$objs $obj"
done
waitall

for src in "$top"/tests/fuzz/fuzz_*.c; do
	name=$(basename "$src" .c)
	# shellcheck disable=SC2086
	$CC $CPPFLAGS -I"$top/tests/fuzz" $CFLAGS -fsanitize=fuzzer "$src" \
	    $objs $LIBS -o "$out/$name" &
	pids="$pids $!"
	n=$((n + 1))
	[ $n -ge "$jobs" ] && { waitall; n=0; }
done
waitall
echo "built $(ls "$out"/fuzz_* | wc -l) targets in $out"
