#include "sim/scenario.h"
int sim_vrenesse(const sim_opts *o, sim_rep *r){(void)o;(void)r;return 1;}
