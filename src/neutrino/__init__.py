"""neutrino: the OpenStack Networking (Neutron) v2.0 API, realised in OVN."""
