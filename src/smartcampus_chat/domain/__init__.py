"""Rules: who may do what (policy), input limits and validation, names, credentials, courses."""
