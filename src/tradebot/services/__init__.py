"""The distributed deployment: the event bus and the services that talk over it."""
