"""Who is who: units and their groups, leaders, tokens and roles, and the work plans.

Holds: ``roles`` (Caller, require_role), ``units`` (units, groups, leaders), ``tokens`` (issue,
list, revoke, authenticate), ``plans`` (plan lookups), ``setup`` (``duban init`` / ``login``).
May use: the ground (config, db, models, errors, clock, files) only.
"""
