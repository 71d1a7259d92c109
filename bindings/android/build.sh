#!/usr/bin/env bash
# Builds the Java classes and the JNI glue of PocketLLM's Android binding (host build, for tests; and
# optionally the arm64-v8a glue with a cross compiler).
#
#   build.sh PREFIX_OR_BUILD_DIR OUT
#   POCKET_INCLUDE=DIR POCKET_LIBDIR=DIR build.sh OUT
#
# PREFIX_OR_BUILD_DIR: an install prefix (include/pocket/pocket.h, lib/libpocket.so) or a cmake build
# directory (libpocket.so in it; the header found through its CMakeCache.txt). POCKET_INCLUDE and
# POCKET_LIBDIR, when set, win over what the directory gives.
# Writes OUT/classes (javac --release 17), OUT/include (the javac -h header), OUT/libpocket_jni.so.
#
# Cross build: CROSS=aarch64-linux-gnu-gcc ARM64_LIBDIR=DIR (an aarch64 libpocket.so) also writes
# OUT/arm64-v8a/libpocket_jni.so and checks it; CROSS without ARM64_LIBDIR only compiles the glue (-c).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
die() { echo "build.sh: $*" >&2; exit 1; }

case $# in
  1) dir=""; out="$1" ;;
  2) dir="$1"; out="$2" ;;
  *) die "usage: build.sh PREFIX_OR_BUILD_DIR OUT   (or POCKET_INCLUDE=.. POCKET_LIBDIR=.. build.sh OUT)" ;;
esac

include="${POCKET_INCLUDE:-}"
libdir="${POCKET_LIBDIR:-}"
if [[ -n "$dir" ]]; then
  [[ -d "$dir" ]] || die "PREFIX_OR_BUILD_DIR: $dir is not a directory"
  if [[ -z "$include" ]]; then
    if [[ -f "$dir/include/pocket/pocket.h" ]]; then
      include="$dir/include"
    elif [[ -f "$dir/CMakeCache.txt" ]]; then
      # A build directory holds no headers: they are in the source tree it was configured from.
      src="$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$dir/CMakeCache.txt")"
      include="$src/include"
    fi
  fi
  if [[ -z "$libdir" ]]; then
    for d in "$dir/lib" "$dir/lib64" "$dir"; do
      if [[ -e "$d/libpocket.so" ]]; then libdir="$d"; break; fi
    done
  fi
fi
[[ -n "$include" && -f "$include/pocket/pocket.h" ]] ||
  die "no pocket/pocket.h under '${include}' (give PREFIX_OR_BUILD_DIR or POCKET_INCLUDE)"
[[ -n "$libdir" && -e "$libdir/libpocket.so" ]] ||
  die "no libpocket.so in '${libdir}' (give PREFIX_OR_BUILD_DIR or POCKET_LIBDIR)"
include="$(cd "$include" && pwd)"
libdir="$(cd "$libdir" && pwd)"

# JAVA_HOME from javac itself (/usr/bin/javac is a chain of links into the JDK), unless given.
if [[ -z "${JAVA_HOME:-}" ]]; then
  javac_path="$(command -v javac)" || die "javac not found (install a JDK 17 or set JAVA_HOME)"
  JAVA_HOME="$(dirname "$(dirname "$(readlink -f "$javac_path")")")"
fi
[[ -f "$JAVA_HOME/include/jni.h" ]] || die "JAVA_HOME=$JAVA_HOME has no include/jni.h (a JRE, not a JDK?)"
javac="$JAVA_HOME/bin/javac"

mkdir -p "$out"
out="$(cd "$out" && pwd)"
rm -rf "$out/classes" "$out/include"

# -h writes the header of Native's natives; the glue is compiled with it forced in, so a Java signature
# that drifts from the C one fails here instead of as UnsatisfiedLinkError at run time.
mapfile -t sources < <(find "$here/java" "$here/test" -name '*.java' | sort)
"$javac" --release 17 -Xlint:all -Werror -encoding UTF-8 -d "$out/classes" -h "$out/include" "${sources[@]}"
header="$out/include/org_pocketllm_Native.h"

cflags=(-std=c11 -O2 -Wall -Wextra -Werror -fPIC -I"$JAVA_HOME/include" -I"$JAVA_HOME/include/linux" -I"$include")

machine() { readelf -h "$1" | sed -n 's/^ *Machine: *//p'; }
soname() { readelf -d "$1" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p'; }
needed() { readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; }

# Every native of Native.java must be exported, under its JNI name.
check_symbols() {
  local lib="$1"
  local expected actual
  expected="$(sed -n 's/^ *static native [^(]* \([A-Za-z0-9]*\)(.*/Java_org_pocketllm_Native_\1/p' \
    "$here/java/org/pocketllm/Native.java" | sort)"
  actual="$(nm -D --defined-only "$lib" | awk '{print $3}' | grep '^Java_org_pocketllm_' | sort || true)"
  [[ "$expected" == "$actual" ]] || die "$lib: JNI symbols differ from Native.java's natives:
$(diff <(echo "$expected") <(echo "$actual") || true)"
  echo "build.sh: $lib exports all $(echo "$actual" | wc -l) Java_org_pocketllm_* natives"
}

# The host glue needs a host libpocket.so; a libdir holding only another machine's (scripts/test_arm64.sh
# passes its aarch64 build) still gets the classes and the cross build.
printf 'int probe;\n' | gcc -x c -c - -o "$out/probe.o"
host_machine="$(machine "$out/probe.o")"
rm -f "$out/probe.o"
lib_machine="$(machine "$libdir/libpocket.so")"
if [[ "$lib_machine" == "$host_machine" ]]; then
  gcc "${cflags[@]}" -include "$header" -shared "$here/jni/pocket_jni.c" -o "$out/libpocket_jni.so" \
    -L"$libdir" -lpocket -Wl,-rpath,"$libdir" -Wl,--no-undefined
  check_symbols "$out/libpocket_jni.so"
  echo "build.sh: built $out/classes and $out/libpocket_jni.so (libpocket from $libdir)"
else
  rm -f "$out/libpocket_jni.so"
  echo "build.sh: $libdir/libpocket.so is for $lib_machine, not this machine ($host_machine): built $out/classes, no host glue"
fi

if [[ -n "${CROSS:-}" ]]; then
  command -v "$CROSS" >/dev/null || die "CROSS=$CROSS: not found"
  mkdir -p "$out/arm64-v8a"
  # The JDK's jni_md.h fits any LP64 Linux; with the NDK, its sysroot's jni.h is used instead.
  if [[ -z "${ARM64_LIBDIR:-}" ]]; then
    "$CROSS" "${cflags[@]}" -include "$header" -c "$here/jni/pocket_jni.c" -o "$out/arm64-v8a/pocket_jni.o"
    readelf -h "$out/arm64-v8a/pocket_jni.o" | grep -q 'Machine:.*AArch64' || die "$CROSS did not produce AArch64 code"
    echo "build.sh: ARM64_LIBDIR not set: compiled the glue for AArch64 (-c only), not linked"
  else
    [[ -e "$ARM64_LIBDIR/libpocket.so" ]] || die "ARM64_LIBDIR=$ARM64_LIBDIR has no libpocket.so"
    so="$out/arm64-v8a/libpocket_jni.so"
    # No rpath: Android's loader finds libpocket.so in the app's own lib dir. 16 KiB pages: Android 15+
    # devices may use them, and a library aligned for 4 KiB fails to load there.
    "$CROSS" "${cflags[@]}" -include "$header" -shared "$here/jni/pocket_jni.c" -o "$so" \
      -L"$ARM64_LIBDIR" -lpocket -Wl,--no-undefined -Wl,-z,max-page-size=16384
    readelf -h "$so" | grep -q 'Machine:.*AArch64' || die "$so is not AArch64"
    # The glue must NEED libpocket by its SONAME: libpocket.so.1 from a Linux (GNU) cross build, libpocket.so
    # from an Android one (no version there: Android's packager and loader take lib<name>.so only).
    want="$(soname "$ARM64_LIBDIR/libpocket.so")"
    want="${want:-libpocket.so}"
    needed "$so" | grep -qxF "$want" || die "$so does not NEED $want (it NEEDs: $(needed "$so" | tr '\n' ' '))"
    check_symbols "$so"
    echo "build.sh: $so: AArch64, NEEDs $want"
    [[ "$want" == "libpocket.so" ]] ||
      echo "build.sh: note: an APK needs a libpocket.so whose SONAME is libpocket.so (an NDK build); $want is for Linux"
  fi
fi
