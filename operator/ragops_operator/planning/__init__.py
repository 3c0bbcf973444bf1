"""Pure decisions: what the operator wants, from what it saw.

No module here performs I/O, reads a clock or holds a client; each takes plain values (the
parsed spec, the last status, objects as dicts) and returns plain values, so every rule is
unit-tested from fixtures. `decide.decide` composes them into one pass's Decision; the I/O
around it lives in `ragops_operator.control`.
"""
