"""orchestrator component."""
