"""Placeholder until the target lands."""


def emit(plan):
    return []
