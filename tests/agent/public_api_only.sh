#!/usr/bin/env bash
# hearsayd and the hearsay CLI use only include/hearsay.h (DESIGN section 2):
# an agent that needs something the header lacks means an embedding service
# will need it too, so it belongs in the API. This fails if any agent file
# includes a private header of the library's parts.
set -u
root=${1:?usage: public_api_only.sh SOURCE_ROOT}
bad=0
shopt -s nullglob
files=("$root"/agent/*.c "$root"/agent/*.h)
[ ${#files[@]} -gt 0 ] || { echo "public_api_only: no agent sources" >&2; exit 1; }
if grep -nE '#include *[<"](membership|wire|detector|sim)/' "${files[@]}"; then
  echo "public_api_only: the agent includes private library headers (above)" >&2
  bad=1
fi
[ $bad -eq 0 ] && echo "public_api_only: ${#files[@]} agent files use only hearsay.h"
exit $bad
