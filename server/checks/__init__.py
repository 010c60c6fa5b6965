"""Findings, computed metrics and escalations over a plan."""
