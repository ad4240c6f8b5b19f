"""Real-time plumbing below the services: publishing events, the per-process hub, presence,
tickets, socket re-validation.
"""
