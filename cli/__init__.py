"""`loanflow`: the ops command line over the HTTP API (review, applications, blacklist), and the
store's schema migrations (`loanflow db upgrade|current`) for the deployment's migration job."""
