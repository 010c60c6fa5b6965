"""personalization-engine: audited personalization plans, served over MCP and a CLI."""

__version__ = "0.1.0"
