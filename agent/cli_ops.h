/*
 * cli_ops.h — `hearsay event` and `hearsay force-leave` (cli_ops.c), called
 * by cli.c's dispatch with the HTTP base URL ("http://host:port") and the
 * token ("" for none) it has already worked out. Each returns the exit
 * status: 0, 1 (failure, reported) or 2 (usage).
 */
#ifndef HSA_CLI_OPS_H
#define HSA_CLI_OPS_H

int hsa_cli_event(const char *base, const char *token, int argc, char **argv);
int hsa_cli_force_leave(const char *base, const char *token, int argc,
                        char **argv);

#endif /* HSA_CLI_OPS_H */
