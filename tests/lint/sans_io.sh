#!/usr/bin/env bash
# The membership core and the detector must do no I/O and read no clock
# (docs/architecture.md): they are driven with `now` and datagrams from
# outside. This fails if a core file includes or calls anything that would
# break that, so the rule cannot erode unnoticed.
set -u
root=${1:?usage: sans_io.sh SOURCE_ROOT}
# The core's files are the objects of hs_membership_core
# (membership/CMakeLists.txt), which the linker also holds to no libev and
# no threads; this adds clocks, files and global randomness.
core=(errors.c member.c member_kv.c core.c core_config.c queue.c local.c
      lookup.c liveness.c view.c digest.c delta.c apply.c announce.c rumor.c
      peers.c exchange.c identity.c core.h core_impl.h member.h gossip.h
      inspect.c)
files=()
for f in "${core[@]}"; do files+=("$root/membership/$f"); done
files+=("$root"/detector/*.c "$root"/detector/*.h)
pattern='#include *[<"](ev\.h|sys/socket\.h|netinet/|arpa/inet\.h|netdb\.h|time\.h|sys/time\.h|pthread\.h|unistd\.h)|\b(clock_gettime|gettimeofday|time|socket|sendto|recvfrom|getaddrinfo|ev_[a-z_]+|rand|srand|random|sleep|usleep|nanosleep|fopen|open|read|write)\s*\('
bad=0
for f in "${files[@]}"; do
  [ -f "$f" ] || { echo "sans_io: missing $f" >&2; bad=1; continue; }
  if grep -nE "$pattern" "$f" | grep -vE '^\s*[0-9]+:\s*(\*|/\*|//)'; then
    echo "sans_io: $f uses I/O, a clock or global randomness (above)" >&2
    bad=1
  fi
done
[ $bad -eq 0 ] && echo "sans_io: ${#files[@]} files clean"
exit $bad
