"""Trunks: a parent port that carries its subports' networks as VLANs."""
