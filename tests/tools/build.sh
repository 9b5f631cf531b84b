# tests/tools/build.sh: sourced by demo.sh and test.sh. build DIR [ARGS]
# configures (once) and builds postern and its test programs out of tree
# in DIR, logging to DIR/build.log and showing its end on failure.
build() {
	dir=$1; shift
	[ -x configure ] && [ configure -nt configure.ac ] && [ Makefile.in -nt Makefile.am ] ||
		autoreconf -fi > /dev/null 2>&1 || { echo "autoreconf failed" >&2; return 1; }
	mkdir -p "$dir"
	if ! (cd "$dir" && { [ -f Makefile ] || ../configure --enable-werror "$@"; } &&
	    make -j2 all && make -j2 tests) > "$dir/build.log" 2>&1; then
		tail -n 30 "$dir/build.log" >&2
		echo "build in $dir failed (see $dir/build.log)" >&2
		return 1
	fi
}
