"""Telegram commands: read-only views for viewers, the persisted controls for operators."""
