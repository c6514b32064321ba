"""The YAML config: defaults, ${ENV_VAR} interpolation, and error messages a trader can act on."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from tradebot.config import MASK, Config, load_config, parse_config, with_overrides
from tradebot.domain.errors import ConfigError

SECRET = "s3cr3t-VALUE-9f8e7d"

# Design section III, verbatim.
DESIGN_YAML = """\
exchange:
  name: binance
  testnet: true  # Use testnet for sim mode
  api_key: ${BINANCE_API_KEY}
  api_secret: ${BINANCE_API_SECRET}
trading:
  symbol: BTC/USDT
  timeframe: 15m
  cycle_interval: 60  # seconds between strategy evaluations
strategy:
  name: ema_crossover
  params:
    fast_period: 12
    slow_period: 26
    rsi_threshold: 70
risk:
  max_position_size: 1000  # USDT
  max_portfolio_exposure: 5000  # USDT (total across all positions)
  max_daily_loss: 500  # USDT
  position_sizing_method: fixed_fractional
  risk_per_trade: 0.02  # 2% of capital
  stop_loss_method: atr
  stop_loss_multiplier: 2.0
monitoring:
  telegram_token: ${TELEGRAM_TOKEN}
  telegram_chat_id: ${TELEGRAM_CHAT_ID}
  log_level: INFO
  metrics_interval: 300  # seconds
database:
  path: ./data/trading_bot.db
"""


def write(tmp_path: Path, text: str, name: str = "config.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def load_error(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text))
    return str(info.value)


# --- defaults -------------------------------------------------------------------------------


def test_load_config_empty_file_gives_paper_defaults(tmp_path: Path) -> None:
    # Act
    config = load_config(write(tmp_path, "# nothing set\n"))

    # Assert
    assert config.exchange.mode == "paper"
    assert config.trading.symbol == "BTC/USDT"
    assert config.trading.timeframe == "1h"
    assert config.trading.starting_cash == Decimal(10000)
    assert config.risk.max_position_size == Decimal(1000)
    assert config.risk.risk_per_trade == 0.02
    assert config.backtest.fee_rate == 0.001
    assert config.database.sqlalchemy_url == "sqlite:///data/tradebot.db"


def test_load_config_none_reads_builtin_default_without_env() -> None:
    config = load_config(None, environ={})

    assert config.strategy.name == "ema_crossover"
    assert config.exchange.api_key is None
    assert config.monitoring.telegram_token is None
    # no window: a backtest uses the whole data file (the old 2024 default clipped user files)
    assert config.backtest.start is None
    assert config.backtest.end_ts_ms is None


def test_load_config_design_section_iii_yaml_loads_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Arrange
    monkeypatch.setenv("BINANCE_API_KEY", "key-from-env")
    monkeypatch.setenv("BINANCE_API_SECRET", SECRET)
    monkeypatch.setenv("TELEGRAM_TOKEN", "123:tok")
    monkeypatch.setenv("TELEGRAM_CHAT_ID", "-100200")

    # Act
    config = load_config(write(tmp_path, DESIGN_YAML))

    # Assert
    assert config.trading.timeframe == "15m"
    assert config.trading.cycle_interval_s == 60
    assert config.monitoring.metrics_interval_s == 300
    assert config.strategy.params == {"fast_period": 12, "slow_period": 26, "rsi_threshold": 70}
    assert config.exchange.api_secret is not None
    assert config.exchange.api_secret.get_secret_value() == SECRET
    assert config.monitoring.telegram_chat_id == "-100200"
    assert config.database.path == Path("data/trading_bot.db")


def test_load_config_section_left_empty_takes_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "risk:\n  # all commented out\nexchange:\n  sandbox:\n"))

    assert config.risk.max_daily_loss == Decimal(500)
    assert config.exchange.sandbox.port == 8765


def test_config_is_frozen() -> None:
    config = Config()

    with pytest.raises(ValidationError):
        config.risk.max_open_positions = 5


# --- interpolation --------------------------------------------------------------------------


def test_interpolation_set_variable_is_resolved_everywhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TB_SYMBOL", "ETH/USDT")
    monkeypatch.setenv("TB_RISK", "0.01")
    monkeypatch.setenv("TB_FAST", "9")
    monkeypatch.setenv("PGPASSWORD", SECRET)
    text = """\
trading: {symbol: "${TB_SYMBOL}"}
risk: {risk_per_trade: "${TB_RISK}"}
strategy: {params: {fast_period: "${TB_FAST}", slow_period: 30}}
database: {url: "postgresql+psycopg://bot:${PGPASSWORD}@db.local:5432/tradebot"}
"""
    config = load_config(write(tmp_path, text))

    assert config.trading.symbol == "ETH/USDT"
    assert config.risk.risk_per_trade == 0.01
    assert config.strategy.params["fast_period"] == 9
    assert (
        config.database.sqlalchemy_url
        == f"postgresql+psycopg://bot:{SECRET}@db.local:5432/tradebot"
    )


def test_interpolation_default_used_when_unset_or_empty(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TB_UNSET", raising=False)
    monkeypatch.setenv("TB_EMPTY", "")
    text = "trading:\n  timeframe: ${TB_UNSET:-4h}\n  symbol: ${TB_EMPTY:-SOL/USDT}\n"

    config = load_config(write(tmp_path, text))

    assert config.trading.timeframe == "4h"
    assert config.trading.symbol == "SOL/USDT"


def test_interpolation_empty_default_means_unset(tmp_path: Path) -> None:
    text = "exchange:\n  api_key: ${TB_K:-}\n  api_secret: ${TB_S:-}\n"

    config = load_config(write(tmp_path, text), environ={})

    assert config.exchange.api_key is None
    assert config.exchange.api_secret is None


def test_interpolation_double_dollar_writes_literal_reference(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "strategy:\n  params: {note: 'cost $${HOME}'}\n"))

    assert config.strategy.params["note"] == "cost ${HOME}"


def test_interpolation_missing_variable_names_variable_and_key_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TB_MISSING_KEY", raising=False)
    monkeypatch.delenv("TB_MISSING_TO", raising=False)
    text = (
        "exchange: {api_key: '${TB_MISSING_KEY}', api_secret: x}\n"
        "monitoring: {email: {to_addrs: [a@b.c, '${TB_MISSING_TO}']}}\n"
    )

    message = load_error(tmp_path, text)

    assert "environment variable TB_MISSING_KEY is not set" in message
    assert "`exchange.api_key`" in message
    assert "`monitoring.email.to_addrs[1]`: environment variable TB_MISSING_TO" in message
    assert "${TB_MISSING_KEY:-value}" in message


def test_interpolation_malformed_reference_is_an_error(tmp_path: Path) -> None:
    message = load_error(tmp_path, "trading:\n  symbol: ${not-a-name}\n  timeframe: ${TF\n")

    assert "`trading.symbol`: a ${...} reference is malformed" in message
    assert "`trading.timeframe`: `${` is not closed" in message


# --- YAML problems --------------------------------------------------------------------------


def test_load_config_yaml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    message = load_error(tmp_path, "risk:\n  max_daily_loss: 500\n   bad_indent: 1\n")

    assert "config.yaml" in message
    assert "line 3" in message


def test_load_config_duplicate_section_is_refused(tmp_path: Path) -> None:
    message = load_error(
        tmp_path, "risk:\n  max_daily_loss: 100\ntrading: {}\nrisk:\n  atr_period: 10\n"
    )

    assert "line 4" in message
    assert "duplicate key `risk` (first written on line 1)" in message


def test_load_config_missing_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"config file not found: .*nope\.yaml"):
        load_config(tmp_path / "nope.yaml")


def test_load_config_list_document_is_refused(tmp_path: Path) -> None:
    assert "must be a mapping of sections" in load_error(tmp_path, "- risk\n- trading\n")


# --- validation messages --------------------------------------------------------------------


def test_validation_unknown_key_suggests_the_close_name(tmp_path: Path) -> None:
    message = load_error(tmp_path, "risk:\n  max_positon_size: 100\n")

    assert "unknown key `risk.max_positon_size`; did you mean `max_position_size`?" in message


def test_validation_unknown_section_suggests_the_close_name(tmp_path: Path) -> None:
    assert "unknown key `monitorng`; did you mean `monitoring`?" in load_error(
        tmp_path, "monitorng: {}\n"
    )


def test_validation_bad_choice_lists_what_is_allowed(tmp_path: Path) -> None:
    message = load_error(tmp_path, "risk:\n  position_sizing_method: kely\n")

    assert (
        "`risk.position_sizing_method` = 'kely': allowed: fixed_fractional, kelly, "
        "volatility_target, fixed_notional"
    ) in message


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        (
            "risk: {risk_per_trade: 1.5}",
            "`risk.risk_per_trade` = 1.5: must be a number > 0 and <= 1",
        ),
        ("risk: {risk_per_trade: 0}", "`risk.risk_per_trade` = 0: must be a number > 0 and <= 1"),
        ("risk: {risk_per_trade: 2}", "(a fraction: write 0.02 for 2 %)"),
        ("risk: {max_open_positions: two}", "`risk.max_open_positions` = 'two': must be a whole"),
        ("risk: {max_daily_loss: -5}", "`risk.max_daily_loss` = -5: must be a number > 0"),
        ("trading: {timeframe: 7m}", "`trading.timeframe` = '7m': allowed: 1m, 3m, 5m, 15m, 30m"),
        ("trading: {symbol: BTCUSDT}", "did you mean `BTC/USDT`?"),
        ("trading: {symbol: btc/usdt}", "must be BASE/QUOTE in capitals"),
        ("exchange: {name: kraken}", "`exchange.name` = 'kraken': allowed: binance"),
        ("exchange: {mode: real}", "allowed: backtest, paper, live"),
        ("exchange: {sandbox: {port: 70000}}", "`exchange.sandbox.port` = 70000: must be a whole"),
        ("exchange: {sandbox: {market_data: kraken}}", "allowed: replay, binance"),
        (
            "exchange: {sandbox: {market_data_url: 'http://127.0.0.1:1'}}",
            "market_data_url is used only with market_data: binance (replay reads a file)",
        ),
        (
            "exchange: {sandbox: {market_data: binance, market_data_url: '127.0.0.1:1'}}",
            "market_data_url '127.0.0.1:1' must start with http:// or https://",
        ),
        ("execution: {order_type: stop}", "allowed: market, limit"),
        ("backtest: {data_repair: fix}", "allowed: refuse, drop, ffill"),
        ("downtime: {on_exchange_down: panic}", "allowed: wait, flatten_on_recovery, halt"),
        ("monitoring: {log_level: LOUD}", "allowed: DEBUG, INFO, WARNING, ERROR, CRITICAL"),
        ("monitoring: {dashboard: {enabled: maybe}}", "must be true or false"),
        ("monitoring: 5", "`monitoring` = 5: must be a section"),
        ("strategy: {params: {fast: [1, 2]}}", "`fast` must be a number, text or true/false"),
        ("strategy: {name: 'ema crossover'}", "must be a built-in name like ema_crossover"),
    ],
)
def test_validation_bad_value_names_path_value_and_rule(
    tmp_path: Path, yaml_text: str, expected: str
) -> None:
    assert expected in load_error(tmp_path, yaml_text + "\n")


def test_validation_every_problem_is_listed_at_once(tmp_path: Path) -> None:
    text = "risk:\n  risk_per_trade: 3\n  atr_period: 0\ntrading:\n  timeframe: 2d\n"

    message = load_error(tmp_path, text)

    assert "3 problems in the config" in message
    assert "`risk.risk_per_trade`" in message
    assert "`risk.atr_period` = 0: must be a whole number >= 1 and <= 1000" in message
    assert "`trading.timeframe`" in message


def test_validation_position_larger_than_exposure_is_refused(tmp_path: Path) -> None:
    message = load_error(
        tmp_path, "risk: {max_position_size: 6000, max_portfolio_exposure: 5000}\n"
    )

    assert "max_position_size (6000) must not exceed max_portfolio_exposure (5000)" in message


def test_validation_fixed_fractional_without_stop_is_refused(tmp_path: Path) -> None:
    message = load_error(tmp_path, "risk: {stop_loss_method: none}\n")

    assert "fixed_fractional needs a stop" in message


def test_validation_backtest_start_after_end_is_refused(tmp_path: Path) -> None:
    message = load_error(tmp_path, "backtest: {start: 2024-06-01, end: 2024-01-01}\n")

    assert "`backtest`: start (2024-06-01T00:00:00+00:00) must be before end" in message


def test_backtest_dates_become_utc_datetimes(tmp_path: Path) -> None:
    text = "backtest:\n  start: 2024-03-01\n  end: '2024-03-02T12:00:00+02:00'\n"

    config = load_config(write(tmp_path, text))

    assert config.backtest.start == datetime(2024, 3, 1, tzinfo=UTC)
    assert config.backtest.end == datetime(2024, 3, 2, 10, tzinfo=UTC)
    assert config.backtest.start_ts_ms == 1_709_251_200_000


def test_trading_symbols_share_one_quote_currency(tmp_path: Path) -> None:
    ok = load_config(write(tmp_path, "trading: {symbols: [BTC/USDT, ETH/USDT]}\n"))
    message = load_error(tmp_path, "trading: {symbols: [BTC/USDT, ETH/BTC]}\n")

    assert ok.trading.all_symbols == ("BTC/USDT", "ETH/USDT")
    assert ok.trading.quote_currency == "USDT"
    assert "must share one quote currency" in message


def test_monitoring_telegram_token_without_chat_id_is_refused(tmp_path: Path) -> None:
    message = load_error(tmp_path, f"monitoring: {{telegram_token: '{SECRET}'}}\n")

    assert "telegram_token and telegram_chat_id must be set together" in message
    assert SECRET not in message


def test_monitoring_email_needs_recipients_when_on(tmp_path: Path) -> None:
    message = load_error(tmp_path, "monitoring: {email: {smtp_host: 127.0.0.1}}\n")

    assert "from_addr and at least one of to_addrs are needed" in message


# --- secrets --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "yaml_text",
    [
        f"exchange: {{api_key: '{SECRET}'}}\n",  # secret without its partner
        f"exchange: {{api_key: ['{SECRET}'], api_secret: x}}\n",  # wrong type
        f"exchange: {{api_sekret: '{SECRET}'}}\n",  # misspelt key still holds a secret
        f"database: {{url: 'postgres:/bot:{SECRET}@host/db'}}\n",  # malformed URL
        f"monitoring: {{email: {{password: {{x: '{SECRET}'}}}}}}\n",
        f"exchange:\n  api_key: {SECRET}\n  api_secret: [unclosed\n",  # YAML error on its line
        f"exchange:\n  api_key: '{SECRET}'\n  api_key: '{SECRET}'\n",  # duplicate key
        f"exchange: {{mode: live, api_key: '{SECRET}', api_secret: '{SECRET}'}}\n",
        f"exchange: {{api_key: '${{{SECRET}!}}', api_secret: x}}\n",  # pasted into ${...}
    ],
)
def test_error_message_never_contains_secret_values(tmp_path: Path, yaml_text: str) -> None:
    message = load_error(tmp_path, yaml_text)

    assert SECRET not in message
    assert SECRET[:8] not in message


def test_error_message_masks_secret_from_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TB_TOKEN", SECRET)
    text = "monitoring:\n  telegram_token: ${TB_TOKEN}\n  telegram_chat_id: [1]\n"

    message = load_error(tmp_path, text)

    assert "`monitoring.telegram_chat_id`" in message
    assert SECRET not in message


def test_live_mode_refuses_keys_written_in_the_file(tmp_path: Path) -> None:
    text = f"exchange:\n  mode: live\n  api_key: abc123\n  api_secret: '{SECRET}'\n"

    message = load_error(tmp_path, text)

    assert "`exchange.api_key` and `exchange.api_secret` written literally" in message
    assert "${BINANCE_API_KEY}" in message
    assert SECRET not in message


def test_live_mode_accepts_keys_from_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BINANCE_API_KEY", "k")
    monkeypatch.setenv("BINANCE_API_SECRET", SECRET)
    text = (
        "exchange:\n  mode: live\n"
        "  api_key: ${BINANCE_API_KEY}\n  api_secret: ${BINANCE_API_SECRET}\n"
    )

    config = load_config(write(tmp_path, text))

    assert config.exchange.mode == "live"
    assert config.exchange.testnet is True


def test_paper_mode_allows_keys_written_in_the_file(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "exchange: {api_key: sandbox-k, api_secret: sandbox-s}\n"))

    assert config.exchange.api_key is not None
    assert config.exchange.api_key.get_secret_value() == "sandbox-k"


def test_model_dump_masked_hides_every_secret_but_keeps_url_host(tmp_path: Path) -> None:
    text = f"""\
exchange: {{api_key: '{SECRET}', api_secret: '{SECRET}'}}
monitoring:
  telegram_token: '{SECRET}'
  telegram_chat_id: '42'
  email: {{smtp_host: 127.0.0.1, password: '{SECRET}', from_addr: a@b.c, to_addrs: [d@e.f]}}
database: {{url: 'postgresql+psycopg://bot:{SECRET}@db.local/tradebot'}}
"""
    config = load_config(write(tmp_path, text))

    dumped = config.model_dump_masked()

    assert SECRET not in repr(dumped)
    assert SECRET not in repr(config)
    assert dumped["exchange"]["api_key"] == MASK  # type: ignore[index]
    assert dumped["monitoring"]["email"]["password"] == MASK  # type: ignore[index]
    assert dumped["database"]["url"] == (  # type: ignore[index]
        "postgresql+psycopg://bot:**********@db.local/tradebot"
    )
    assert dumped["risk"]["max_position_size"] == 1000  # type: ignore[index]
    assert dumped["monitoring"]["telegram_chat_id"] == "42"  # type: ignore[index]


# --- overrides and in-memory text -----------------------------------------------------------


def test_with_overrides_applies_and_validates_again() -> None:
    base = parse_config("exchange: {api_key: k, api_secret: s}\nrisk: {atr_period: 20}\n")

    config = with_overrides(
        base, {"trading.symbol": "ETH/USDT", "backtest.start": "2024-06-01"}, "command line"
    )

    assert config.trading.symbol == "ETH/USDT"
    assert config.backtest.start == datetime(2024, 6, 1, tzinfo=UTC)
    assert config.risk.atr_period == 20
    assert config.exchange.api_key is not None
    assert config.exchange.api_key.get_secret_value() == "k"


def test_with_overrides_bad_value_names_the_key() -> None:
    with pytest.raises(ConfigError, match=r"(?s)command line: .*`trading.timeframe` = '9m'"):
        with_overrides(Config(), {"trading.timeframe": "9m"}, "command line")


def test_alert_modes_bare_yaml_on_off_are_the_words_not_an_error(tmp_path: Path) -> None:
    # YAML reads `on`/`off` as booleans; the documented config writes them bare.
    path = tmp_path / "c.yaml"
    path.write_text(
        "monitoring:\n  alerts:\n    telegram: {trade_opened: silent, daily_summary: off}\n"
        "    email: {trade_closed: on}\n",
        encoding="utf-8",
    )
    alerts = load_config(path).monitoring.alerts
    assert alerts.telegram == {"trade_opened": "silent", "daily_summary": "off"}
    assert alerts.email == {"trade_closed": "on"}


def test_alert_modes_unknown_rule_is_refused_naming_the_rules(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("monitoring:\n  alerts:\n    email: {trade_open: off}\n", encoding="utf-8")
    with pytest.raises(
        ConfigError, match="unknown alert rule trade_open; the rules are: order_failed"
    ):
        load_config(path)


def test_validation_protections_name_each_problem_by_its_place_in_the_list(
    tmp_path: Path,
) -> None:
    text = (
        "risk:\n  protections:\n"
        "    - {method: cooldown, stop_duration_bars: 0}\n"
        "    - {method: stoplos_guard, trade_limit: 2}\n"
        "    - {method: stoploss_guard, lookback_bars: 10, stop_duration_bars: 5, scope: every}\n"
        "    - {method: max_drawdown, max_drawdown_pct: 15, lookback_bars: 10,"
        " stop_duration_bars: 5, lookbak: 3}\n"
        "    - {stop_duration_bars: 3}\n"
    )

    message = load_error(tmp_path, text)

    assert "7 problems in the config" in message
    for line in [
        "`risk.protections[0].stop_duration_bars` = 0: must be a whole number >= 1",
        "`risk.protections[1].method` = 'stoplos_guard': allowed: cooldown, stoploss_guard, "
        "max_drawdown; did you mean `stoploss_guard`?",
        "`risk.protections[2].trade_limit` is required: Stop-losses that set the lock.",
        "`risk.protections[2].scope` = 'every': allowed: symbol, all",
        "`risk.protections[3].max_drawdown_pct` = 15: must be a number > 0 and < 1 (a fraction",
        "unknown key `risk.protections[3].lookbak`; did you mean `lookback_bars`?",
        "`risk.protections[4].method` is required: one of cooldown, stoploss_guard, max_drawdown",
    ]:
        assert line in message


def test_protections_default_to_none_and_load_from_yaml(tmp_path: Path) -> None:
    text = "risk:\n  protections:\n    - method: cooldown\n      stop_duration_bars: 4\n"

    assert Config().risk.protections == []
    (rule,) = load_config(write(tmp_path, text)).risk.protections
    assert (rule.method, rule.stop_duration_bars) == ("cooldown", 4)
