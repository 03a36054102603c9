"""SMS guides: the guide library, public guide pages, the outbox, gateways, webhooks, opt-outs."""
