"""Machine-learning strategies that cannot learn from the future.

``features`` and ``labels`` declare what a model sees and what it predicts (a label states
its horizon in bars, so training knows how far it reaches ahead); ``dataset`` builds both
from candles; ``training`` fits scikit-learn models on purged windows and reports how they
score; ``strategy`` retrains on a schedule inside backtests and live trading alike.
"""
