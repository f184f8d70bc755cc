"""Simulators of every outside party, speaking their wire protocols."""
