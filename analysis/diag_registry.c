/* diag_registry.c - the diagnosis rules, in the order they run.
 *
 * A rule is one file analysis/diag_<family>.c with a const struct
 * diag_rule; list it here. Order matters only for rules that look at what
 * others found: serial-work runs last, to speak only where nothing more
 * specific did. */
#include "analysis/diagnosis.h"

extern const struct diag_rule diag_rule_interference;	/* diag_interference.c */
extern const struct diag_rule diag_rule_lock;		/* diag_lock.c */
extern const struct diag_rule diag_rule_oversub;	/* diag_oversub.c */
extern const struct diag_rule diag_rule_memory;		/* diag_memory.c */
extern const struct diag_rule diag_rule_startup;	/* diag_startup.c */
extern const struct diag_rule diag_rule_serial;		/* diag_serial.c */

const struct diag_rule *const diag_rules[] = {
	/* first: the rules after it defer to what it explains */
	&diag_rule_interference,
	&diag_rule_lock,
	&diag_rule_oversub,
	&diag_rule_memory,
	&diag_rule_startup,
	&diag_rule_serial,
	NULL,
};
