"""Process: the lifecycle state machine, policies, routing and the application service."""
