"""The one write path to OVN: fetch facts → translate → plan → apply (STYLE rule 2).

The journal worker, maintenance and `neutrino sync` all go through `Reconciler`.
"""
