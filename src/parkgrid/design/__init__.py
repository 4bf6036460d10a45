"""What to build and what it pays: lifecycle economics and sizing."""
