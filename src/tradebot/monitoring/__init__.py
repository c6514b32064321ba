"""MONITORING & ALERTING: logging set-up (metrics, alerts and the dashboard to come)."""
