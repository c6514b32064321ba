"""STATE & PERSISTENCE: the database, the decision log and reconciliation with the exchange.

The only component that knows SQL. Callers use these names; the modules behind them are
free to change. See docs/state.md.
"""

from tradebot.state.control import KillSwitchLevel
from tradebot.state.db import Database, create_database, migrate
from tradebot.state.decision_log import LoggedDecision
from tradebot.state.inspection import Inspection, inspect_database
from tradebot.state.lock import InstanceLock, acquire_instance_lock
from tradebot.state.reconcile import (
    Discrepancy,
    DiscrepancyKind,
    ExchangeState,
    Fix,
    LocalState,
    ReconcileRules,
    Reconciliation,
    reconcile,
)
from tradebot.state.repository import Repository
from tradebot.state.rows import PortfolioSnapshot, ReconciliationEvent, SavedPosition
from tradebot.state.transaction import StateTransaction

__all__ = [
    "Database",
    "Discrepancy",
    "DiscrepancyKind",
    "ExchangeState",
    "Fix",
    "Inspection",
    "InstanceLock",
    "KillSwitchLevel",
    "LocalState",
    "LoggedDecision",
    "PortfolioSnapshot",
    "ReconcileRules",
    "Reconciliation",
    "ReconciliationEvent",
    "Repository",
    "SavedPosition",
    "StateTransaction",
    "acquire_instance_lock",
    "create_database",
    "inspect_database",
    "migrate",
    "reconcile",
]
