"""Everything that talks to OVN."""
