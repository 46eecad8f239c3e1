"""The lab: a hypervisor on one machine for real-packet tests and for users."""
