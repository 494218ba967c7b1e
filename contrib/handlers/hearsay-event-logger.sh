#!/bin/sh
# An example hearsayd event handler: one readable line per membership event.
#
#   hearsayd ... --event-handler "member-join,member-leave,member-fail=/usr/local/share/hearsay/hearsay-event-logger.sh"
#
# hearsayd runs a handler once per event (through /bin/sh -c), with the
# event in the environment and the member on stdin as one line,
# "name<TAB>addr<TAB>state<TAB>key=value,key=value". Whatever the handler
# prints goes to hearsayd's log; a non-zero exit is logged and counted in
# hearsay_agent_handler_runs_total{result="failed"}. A handler that runs
# longer than --handler-timeout is killed with its whole process group.
#
# Environment (docs/operations.md has the full list):
#   HEARSAY_EVENT        member-join, member-leave, member-fail, member-suspect,
#                        member-recover, member-update, member-restart, member-reap
#   HEARSAY_SELF         the name of the node running the handler
#   HEARSAY_MEMBER_NAME, HEARSAY_MEMBER_ADDR, HEARSAY_MEMBER_STATE,
#   HEARSAY_MEMBER_GENERATION, HEARSAY_MEMBER_TAG_<KEY>
#   HEARSAY_TAG_<KEY>    this node's own tags
#   HEARSAY_KEY, HEARSAY_KEY_DELETED, HEARSAY_KEY_LOCAL   (member-update only)
#   HEARSAY_HTTP_ADDR    this node's HTTP API, so `hearsay members` just works
set -eu

tab=$(printf '\t')
while IFS="$tab" read -r name addr state tags; do
    line="$HEARSAY_EVENT: $name ($addr) is now $state"
    [ -n "$tags" ] && line="$line, tags $tags"
    echo "$line [seen by $HEARSAY_SELF]"
    # React here, for example:
    #   member-fail)  page someone, drain a load balancer backend
    #   member-join)  add "$addr" to a config file and reload a service
    # Or write to the system log:
    #   logger -t hearsay "$line"
done
