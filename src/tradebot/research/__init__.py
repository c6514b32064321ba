"""Research: optimisation, walk-forward and purged cross-validation, overfitting statistics,
Monte Carlo robustness checks. Nothing in the trading core imports this package."""
