"""Residents asking for help: the public form, SMS replies, the leaders' list, help at the desk."""
