"""Maestro: a GitOps workflow compiler for ML platform teams."""
