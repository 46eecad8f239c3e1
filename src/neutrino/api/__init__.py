"""HTTP only: routing, Neutron envelopes, parsing, faults. No business rules here."""
