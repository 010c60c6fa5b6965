"""Plan files under <workspace>/.claude/plans, the workspace itself, and path confinement."""
