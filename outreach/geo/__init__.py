"""Administrative units (a tree), villages, households and consent."""
