# The commands a person types; the README shows the same ones.
.PHONY: demo test check lint bench setup lock
