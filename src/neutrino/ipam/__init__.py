"""IP address management: subnet, allocation-pool, address and MAC arithmetic.

`neutrino.ipam.arithmetic` holds the pure functions (no I/O, no database) that decide
what a subnet's usable range is, which addresses are free and which user input is
acceptable, following the OpenStack Neutron v2.0 API rules.
"""
