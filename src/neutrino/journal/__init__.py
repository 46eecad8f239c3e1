"""The durable queue between the SQL database and OVN Northbound (DESIGN section 3)."""
