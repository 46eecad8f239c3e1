"""Pure translation: a resource and the facts it needs in, the desired NB rows out.

No I/O, no configuration lookups, no randomness: everything arrives in the arguments.
"""
