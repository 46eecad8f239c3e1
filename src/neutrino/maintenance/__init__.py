"""Periodic upkeep: small named jobs run by one scheduler on the elected node."""
