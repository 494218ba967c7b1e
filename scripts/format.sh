#!/usr/bin/env bash
# Formats hearsay's C sources with the committed .clang-format, or checks
# that they are formatted.
#
#   scripts/format.sh                 format every tracked .c and .h in place
#   scripts/format.sh FILE...         format these files
#   scripts/format.sh --check [FILE...]
#                                     change nothing; list the files that
#                                     clang-format would change, exit 1 if any
#
# Uses Debian's clang-format (scripts/setup.sh installs it; CLANG_FORMAT
# names another binary). Versions format a few constructs differently, so
# the tree is kept formatted by the version Debian 12 ships (14); another
# one is used with a warning. ctest runs --check as the test format_check.
set -euo pipefail
cd "$(dirname "$0")/.."

check=0
files=()
for a in "$@"; do
  case "$a" in
    --check) check=1 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    -*) echo "format.sh: unknown option '$a' (try --help)" >&2; exit 2 ;;
    *) files+=("$a") ;;
  esac
done

cf=${CLANG_FORMAT:-clang-format}
if ! command -v "$cf" >/dev/null 2>&1; then
  echo "format.sh: $cf not found (scripts/setup.sh installs clang-format)" >&2
  exit 2
fi
version=$("$cf" --version)
case "$version" in
  *"version 14."*) ;;
  *) echo "format.sh: warning: the tree is formatted with clang-format 14;" \
          "this is: $version" >&2 ;;
esac

if [ ${#files[@]} -eq 0 ]; then
  # Every tracked C file (a tarball without git: every one under the source
  # folders). Generated files live in build directories, never here.
  if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    mapfile -t files < <(git ls-files '*.c' '*.h')
  else
    mapfile -t files < <(find agent bench contrib detector include membership \
                              sim tests wire -name '*.[ch]' 2>/dev/null | sort)
  fi
fi
if [ ${#files[@]} -eq 0 ]; then
  echo "format.sh: no C files found" >&2
  exit 2
fi

if [ $check -eq 0 ]; then
  "$cf" -i --style=file "${files[@]}"
  exit 0
fi

# One clang-format run per file: its replacements (the XML output) say
# whether it would change anything, without touching the file.
bad=()
for f in "${files[@]}"; do
  out=$("$cf" --style=file --output-replacements-xml "$f")
  if grep -q '<replacement ' <<<"$out"; then
    bad+=("$f")
  fi
done
if [ ${#bad[@]} -eq 0 ]; then
  echo "format.sh: ${#files[@]} files formatted"
  exit 0
fi
echo "format.sh: ${#bad[@]} of ${#files[@]} files are not formatted" \
     "(scripts/format.sh FILE... formats them):" >&2
for f in "${bad[@]}"; do
  echo "  $f" >&2
done
exit 1
