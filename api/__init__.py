"""The HTTP API: applicant, ops, vendor callbacks and the payload codec endpoint."""
