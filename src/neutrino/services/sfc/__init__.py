"""Service function chaining: networking-sfc's port pairs, port pair groups, flow
classifiers and port chains, with networking-sfc's rules. Their OVN shape is
`neutrino.ovn.translate.sfc`."""
