"""Decisioning: policies as versioned data (JDM decision graphs and a scorecard points table,
under `policies/`), their loading and checks, evaluation by zen-engine, scorecard training and
replay. Imports `domain` and `store` only; no Temporal."""
