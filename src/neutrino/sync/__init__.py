"""Comparing the database with OVN NB, and repairing the differences (DESIGN section 4)."""
