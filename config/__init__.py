"""Process configuration and the Temporal client shared by the API and the workers."""
