"""Callbacks that audit a trainer's first optimizer step: `tllint.integrations.lightning.AuditCallback` and
`tllint.integrations.transformers.AuditCallback`. Each imports its framework; neither is a dependency."""
