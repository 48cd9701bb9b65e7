"""What both halves of tllint share: the finding types, the rule registry (one module per rule, discovered) and
the rule pages derived from it."""
