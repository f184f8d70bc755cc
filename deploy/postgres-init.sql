-- Temporal keeps its own databases beside the application store.
CREATE DATABASE temporal OWNER loanflow;
CREATE DATABASE temporal_visibility OWNER loanflow;
