"""Flask blueprints: thin views that read the request, call a service, render."""
