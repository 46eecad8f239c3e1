"""QoS: policies, their rules, and which ports they reach (Neutron's qos extension)."""
