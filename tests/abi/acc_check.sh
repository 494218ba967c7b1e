#!/usr/bin/env bash
# Debian's abi-compliance-checker on the released header against the
# current one (headers only: it compiles both with GCC and compares every
# type, field offset, enum value and function signature), as a second
# opinion beside abi_layout, which knows the project's own rules (which
# structs are frozen). Fails on any binary or source compatibility
# problem; status 77 (skipped) without the tool.
#
#   acc_check.sh RELEASED_HEADER CURRENT_HEADER WORK_DIR
set -u
old=${1:?usage: acc_check.sh RELEASED_HEADER CURRENT_HEADER WORK_DIR}
new=${2:?}
work=${3:?}
command -v abi-compliance-checker >/dev/null || {
  echo "acc_check: abi-compliance-checker not installed (scripts/setup.sh)"
  exit 77
}
mkdir -p "$work"
printf '<version>released</version>\n<headers>%s</headers>\n' "$old" >"$work/released.xml"
printf '<version>current</version>\n<headers>%s</headers>\n' "$new" >"$work/current.xml"
cd "$work" || exit 1
abi-compliance-checker -lib hearsay -headers-only -old released.xml \
  -new current.xml -report-path "$work/report.html" >"$work/acc.log" 2>&1
rc=$?
grep -E "compatibility|problems" "$work/acc.log"
if [ $rc -ne 0 ]; then
  echo "acc_check: the current header breaks the released ABI; see $work/report.html" >&2
  # The report's problem lines, in text, so CI logs show what broke.
  sed -e 's/<[^>]*>/ /g' "$work/report.html" | grep -iE "field|offset|size|removed|changed" |
    sed 's/  */ /g' | sort -u | head -20 >&2
  exit 1
fi
exit 0
