#!/usr/bin/env bash
# The dynamic symbols libpocket.so defines are exactly the functions pocket.h declares (POCKET_API), and
# its SONAME carries the header's POCKET_ABI_VERSION. Run by ctest (Api.ExportsEqualTheHeader).
#   scripts/check_exports.sh include/pocket/pocket.h build/libpocket.so
set -euo pipefail
header=$1
lib=$2
declared=$(grep -oE 'POCKET_API[^(]*[^a-z0-9_]pocket_[a-z0-9_]+\(' "$header" | grep -oE 'pocket_[a-z0-9_]+\($' | tr -d '(' | sort)
exported=$(nm -D --defined-only "$lib" | awk '{print $3}' | sed 's/@.*//' | grep -v '^POCKET_[0-9]*$' | sort)
if [ -z "$declared" ]; then
  echo "check_exports: no POCKET_API declarations found in $header"
  exit 1
fi
status=0
if [ "$declared" != "$exported" ]; then
  echo "check_exports: declared in $header but not exported by $lib:"
  comm -23 <(echo "$declared") <(echo "$exported") | sed 's/^/  /'
  echo "check_exports: exported by $lib but not declared in $header:"
  comm -13 <(echo "$declared") <(echo "$exported") | sed 's/^/  /'
  status=1
fi
abi=$(grep -oE '#define POCKET_ABI_VERSION [0-9]+' "$header" | awk '{print $3}')
soname=$(readelf -d "$lib" | grep -oE 'SONAME.*\[[^]]+\]' | grep -oE '\[[^]]+\]' | tr -d '[]')
if [ "$soname" != "libpocket.so.$abi" ]; then
  echo "check_exports: SONAME is '$soname' but pocket.h says POCKET_ABI_VERSION $abi (libpocket.so.$abi)"
  status=1
fi
[ $status -eq 0 ] && echo "check_exports: $(echo "$declared" | wc -l) functions declared = exported, SONAME $soname"
exit $status
