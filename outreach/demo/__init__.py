"""A realistic, deterministic demo of Tuyên Quang province (legacy units)."""
