"""`loanflow`: the ops command line over the HTTP API (review, applications, blacklist)."""
