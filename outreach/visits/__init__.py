"""Visit records from the field, the sync API, and progress against campaign goals."""
