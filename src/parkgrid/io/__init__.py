"""Files in and out: atomic writes, results folders, plan exports, state files."""
