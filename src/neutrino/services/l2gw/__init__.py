"""L2 gateways (networking-l2gw's API): gateways, their devices, and connections."""
